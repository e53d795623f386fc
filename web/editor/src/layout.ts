// A layered (Sugiyama-style, simplified) layout: each action goes one layer below its deepest
// parent, layers are ordered by the average position of their parents to keep crossings low,
// and each layer is centred. Good enough for workflow graphs of tens of actions, and no
// dependency.
import { SOURCE, type Position, type Workflow } from './model';

export const NODE_W = 220;
export const GAP_X = 50;
export const GAP_Y = 110;

export function layout(w: Workflow): Record<string, Position> {
  const ids = [SOURCE, ...w.actions.map((a) => a.id)];
  const known = new Set(ids);
  const parents = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of w.edges) {
    if (known.has(e.from) && known.has(e.to) && e.from !== e.to) parents.get(e.to)!.push(e.from);
  }

  // Longest path from the roots; a cycle (invalid, but the user may be mid-edit) is cut by
  // never going deeper than the number of nodes.
  const layer = new Map<string, number>();
  const depth = (id: string, guard: number): number => {
    if (layer.has(id)) return layer.get(id)!;
    if (guard > ids.length) return 0;
    const ps = parents.get(id)!;
    const d = id === SOURCE ? 0 : ps.length === 0 ? 1 : Math.max(...ps.map((p) => depth(p, guard + 1) + 1));
    layer.set(id, d);
    return d;
  };
  ids.forEach((id) => depth(id, 0));

  const layers: string[][] = [];
  for (const id of ids) (layers[layer.get(id)!] ??= []).push(id);

  const order = new Map<string, number>();
  const pos: Record<string, Position> = {};
  layers.forEach((row, li) => {
    if (!row) return;
    const bary = (id: string) => {
      const ps = parents.get(id)!.filter((p) => order.has(p));
      return ps.length ? ps.reduce((s, p) => s + order.get(p)!, 0) / ps.length : Number.MAX_SAFE_INTEGER;
    };
    const sorted = [...row].sort((a, b) => bary(a) - bary(b));
    const width = sorted.length * NODE_W + (sorted.length - 1) * GAP_X;
    sorted.forEach((id, i) => {
      order.set(id, i);
      pos[id] = { x: i * (NODE_W + GAP_X) - width / 2, y: li * GAP_Y };
    });
  });
  return pos;
}

// anchorOf picks the node a new action is connected from: the selected node, else the lowest
// action that nothing follows, else the trigger.
export function anchorOf(w: Workflow, ns: { id: string; selected?: boolean; position: Position }[]): string {
  const sel = ns.find((n) => n.selected && (n.id === SOURCE || w.actions.some((a) => a.id === n.id)));
  if (sel) return sel.id;
  const pos = new Map(ns.map((n) => [n.id, n.position]));
  const leaves = w.actions.filter((a) => !w.edges.some((e) => e.from === a.id));
  let best: string = SOURCE;
  let y = -Infinity;
  for (const a of leaves) {
    const p = pos.get(a.id);
    if (p && p.y > y) {
      best = a.id;
      y = p.y;
    }
  }
  return best;
}
