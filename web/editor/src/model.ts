// The workflow document as @inngest/workflow-kit defines it. Every object is kept as the JSON
// it came from: edits copy an object and change only the keys the user touched, so fields this
// editor does not know (a fork's edge ids, metadata, future keys) survive a load/save round trip.

export type JSONValue = null | boolean | number | string | JSONValue[] | { [k: string]: JSONValue };
export type JSONObject = { [k: string]: JSONValue };

export interface Action extends JSONObject {
  id: string;
  kind: string;
}

export interface Conditional extends JSONObject {
  type: 'if' | 'else' | 'match';
  ref: string;
}

export interface Edge extends JSONObject {
  from: string;
  to: string;
}

export interface Workflow extends JSONObject {
  actions: Action[];
  edges: Edge[];
}

/** SOURCE is the pseudo action every entry edge starts from. */
export const SOURCE = '$source';

export interface Position {
  x: number;
  y: number;
}

/** normalize accepts any parsed JSON and returns a workflow, refusing what cannot be one. */
export function normalize(v: unknown): Workflow {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('a workflow must be a JSON object');
  const w = v as JSONObject;
  const actions = w.actions ?? [];
  const edges = w.edges ?? [];
  if (!Array.isArray(actions)) throw new Error('workflow.actions must be an array');
  if (!Array.isArray(edges)) throw new Error('workflow.edges must be an array');
  actions.forEach((a, i) => {
    if (!a || typeof a !== 'object' || Array.isArray(a)) throw new Error(`actions[${i}] must be an object`);
    if (typeof (a as JSONObject).id !== 'string') throw new Error(`actions[${i}].id must be a string`);
    if (typeof (a as JSONObject).kind !== 'string') throw new Error(`actions[${i}].kind must be a string`);
  });
  edges.forEach((e, i) => {
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new Error(`edges[${i}] must be an object`);
    if (typeof (e as JSONObject).from !== 'string' || typeof (e as JSONObject).to !== 'string')
      throw new Error(`edges[${i}] needs string "from" and "to"`);
  });
  // Keep the original object when it already has both arrays, so key order is untouched.
  if (Array.isArray(w.actions) && Array.isArray(w.edges)) return w as Workflow;
  return { ...w, actions: actions as Action[], edges: edges as Edge[] };
}

/** edgeKey names an edge for the canvas: its own id when it has one, else from->to. */
export function edgeKey(e: Edge, index: number): string {
  return typeof e.id === 'string' && e.id !== '' ? `e:${e.id}` : `e${index}:${e.from}->${e.to}`;
}

// --- positions ---------------------------------------------------------------------------
// Node positions are not part of workflow-kit. We keep them in metadata.inkflow.positions,
// written only once the user moves, adds or lays out nodes, so an untouched import stays as it
// came.

export function positionsOf(w: Workflow): Record<string, Position> {
  const meta = w.metadata as JSONObject | undefined;
  const ink = meta && typeof meta === 'object' ? (meta.inkflow as JSONObject | undefined) : undefined;
  const pos = ink && typeof ink === 'object' ? (ink.positions as JSONObject | undefined) : undefined;
  const out: Record<string, Position> = {};
  if (!pos || typeof pos !== 'object') return out;
  for (const [id, p] of Object.entries(pos)) {
    if (Array.isArray(p) && typeof p[0] === 'number' && typeof p[1] === 'number') out[id] = { x: p[0], y: p[1] };
  }
  return out;
}

export function withPositions(w: Workflow, positions: Record<string, Position>): Workflow {
  const keep = new Set([SOURCE, ...w.actions.map((a) => a.id)]);
  const pos: JSONObject = {};
  for (const [id, p] of Object.entries(positions)) {
    if (keep.has(id)) pos[id] = [Math.round(p.x), Math.round(p.y)];
  }
  const meta = (w.metadata && typeof w.metadata === 'object' && !Array.isArray(w.metadata) ? w.metadata : {}) as JSONObject;
  const ink = (meta.inkflow && typeof meta.inkflow === 'object' && !Array.isArray(meta.inkflow) ? meta.inkflow : {}) as JSONObject;
  return { ...w, metadata: { ...meta, inkflow: { ...ink, positions: pos } } };
}

// --- edits ---------------------------------------------------------------------------------

export function addAction(w: Workflow, kind: string, defaults: JSONObject, name: string): { w: Workflow; id: string } {
  const id = newID(w, kind);
  const action: Action = { id, kind, name };
  if (Object.keys(defaults).length > 0) action.inputs = defaults;
  return { w: { ...w, actions: [...w.actions, action] }, id };
}

export function updateAction(w: Workflow, id: string, fn: (a: Action) => Action): Workflow {
  return { ...w, actions: w.actions.map((a) => (a.id === id ? fn(a) : a)) };
}

/** setInput sets (or, with undefined, removes) one input of one action. */
export function setInput(w: Workflow, id: string, name: string, value: JSONValue | undefined): Workflow {
  return updateAction(w, id, (a) => {
    const inputs = { ...((a.inputs as JSONObject | undefined) ?? {}) };
    if (value === undefined) delete inputs[name];
    else inputs[name] = value;
    const next: Action = { ...a, inputs };
    if (Object.keys(inputs).length === 0 && a.inputs === undefined) delete next.inputs;
    return next;
  });
}

/** setField sets a top-level string field (name, description); empty removes it. */
export function setField<T extends JSONObject>(o: T, key: string, value: string): T {
  const next = { ...o } as JSONObject;
  if (value === '') delete next[key];
  else next[key] = value;
  return next as T;
}

export function connect(w: Workflow, from: string, to: string): Workflow {
  if (from === to || to === SOURCE) return w;
  if (w.edges.some((e) => e.from === from && e.to === to)) return w;
  return { ...w, edges: [...w.edges, { from, to }] };
}

export function updateEdge(w: Workflow, index: number, fn: (e: Edge) => Edge): Workflow {
  return { ...w, edges: w.edges.map((e, i) => (i === index ? fn(e) : e)) };
}

/** remove deletes actions (and every edge touching them) and edges by index. */
export function remove(w: Workflow, actionIDs: Set<string>, edgeIndexes: Set<number>): Workflow {
  if (actionIDs.size === 0 && edgeIndexes.size === 0) return w;
  const next = {
    ...w,
    actions: w.actions.filter((a) => !actionIDs.has(a.id)),
    edges: w.edges.filter((e, i) => !edgeIndexes.has(i) && !actionIDs.has(e.from) && !actionIDs.has(e.to)),
  };
  // Drop the removed actions' saved positions too (withPositions keeps only live ids).
  const pos = positionsOf(w);
  return Object.keys(pos).some((id) => actionIDs.has(id)) ? withPositions(next, pos) : next;
}

/** upstream lists the actions from which id can be reached, nearest first. */
export function upstream(w: Workflow, id: string): string[] {
  const seen = new Set<string>();
  const order: string[] = [];
  let frontier = [id];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const to of frontier) {
      for (const e of w.edges) {
        if (e.to === to && e.from !== SOURCE && !seen.has(e.from) && e.from !== id) {
          seen.add(e.from);
          order.push(e.from);
          next.push(e.from);
        }
      }
    }
    frontier = next;
  }
  return order;
}

function newID(w: Workflow, kind: string): string {
  const base = kind.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'action';
  const taken = new Set(w.actions.map((a) => a.id));
  for (let n = 1; ; n++) {
    const id = `${base}_${n}`;
    if (!taken.has(id)) return id;
  }
}

/** isRef reports whether s is a whole "!ref($.path)" string. */
export function isRef(v: unknown): v is string {
  return typeof v === 'string' && /^!ref\(\$\.[^)]*\)$/.test(v.trim());
}

/**
 * undeclaredInputs lists the inputs of action that its kind does not declare: the server keeps
 * them (as workflow-kit does, so a workflow saved with an older version of a kind still loads)
 * but no step reads them, so the editor shows them as a warning.
 */
export function undeclaredInputs(action: Action, kind: { inputs: { name: string }[] }): string[] {
  const inputs = action.inputs && typeof action.inputs === 'object' && !Array.isArray(action.inputs) ? action.inputs : {};
  const known = new Set(kind.inputs.map((i) => i.name));
  return Object.keys(inputs).filter((k) => !known.has(k));
}
