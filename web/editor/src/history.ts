// Undo/redo over whole workflow documents. Documents are immutable values, so a snapshot is a
// pointer. Typing in one field merges into one step (same `merge` key), so undo takes back a
// whole edit, not a keystroke.

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  mergeKey: string | null;
}

export function start<T>(present: T): History<T> {
  return { past: [], present, future: [], mergeKey: null };
}

export function push<T>(h: History<T>, next: T, merge: string | null = null): History<T> {
  if (next === h.present) return h;
  if (merge !== null && merge === h.mergeKey) return { ...h, present: next, future: [] };
  return { past: [...h.past.slice(-199), h.present], present: next, future: [], mergeKey: merge };
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return h;
  return { past: h.past.slice(0, -1), present: h.past[h.past.length - 1], future: [h.present, ...h.future], mergeKey: null };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return h;
  return { past: [...h.past, h.present], present: h.future[0], future: h.future.slice(1), mergeKey: null };
}
