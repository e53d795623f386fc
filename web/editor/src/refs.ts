// Refs the pickers offer: "!ref($.event.data.<key>)" for the trigger event's data, and
// "!ref($.state.<action>)" plus its output fields for every upstream action. On an edge
// condition, "$.output" is the output of the edge's source action.
import type { ActionKind } from './api';
import { SOURCE, upstream, type Workflow } from './model';

export interface RefOption {
  ref: string;
  label: string;
  group: string;
}

export const ref = (path: string) => `!ref(${path})`;

function eventRefs(eventKeys: string[]): RefOption[] {
  const out: RefOption[] = [{ ref: ref('$.event.data'), label: 'event.data', group: 'Trigger event' }];
  for (const k of eventKeys) out.push({ ref: ref(`$.event.data.${k}`), label: `event.data.${k}`, group: 'Trigger event' });
  out.push({ ref: ref('$.event.name'), label: 'event.name', group: 'Trigger event' });
  return out;
}

function outputRefs(prefix: string, labelPrefix: string, group: string, kind: ActionKind | undefined): RefOption[] {
  const out: RefOption[] = [{ ref: ref(prefix), label: labelPrefix, group }];
  for (const o of kind?.outputs ?? []) out.push({ ref: ref(`${prefix}.${o.name}`), label: `${labelPrefix}.${o.name}`, group });
  return out;
}

/** batchRefs offers $.events, the events of a batched run (config.batchEvents only). */
function batchRefs(batched: boolean): RefOption[] {
  return batched ? [{ ref: ref('$.events'), label: 'events (the batch)', group: 'Trigger event' }] : [];
}

/** forAction lists the refs an input of action id may use. */
export function forAction(w: Workflow, id: string, kinds: Map<string, ActionKind>, eventKeys: string[], batched = false): RefOption[] {
  const out = [...eventRefs(eventKeys), ...batchRefs(batched)];
  for (const up of upstream(w, id)) {
    const a = w.actions.find((x) => x.id === up);
    if (!a) continue;
    const title = typeof a.name === 'string' && a.name ? `${a.name} (${up})` : up;
    out.push(...outputRefs(`$.state.${up}`, `state.${up}`, `Output of ${title}`, kinds.get(a.kind)));
  }
  return out;
}

/** forEdge lists the refs an edge condition may test. */
export function forEdge(w: Workflow, from: string, kinds: Map<string, ActionKind>, eventKeys: string[], batched = false): RefOption[] {
  const out: RefOption[] = [];
  if (from !== SOURCE) {
    const a = w.actions.find((x) => x.id === from);
    out.push(...outputRefs('$.output', 'output', `Output of ${from}`, a ? kinds.get(a.kind) : undefined));
  }
  out.push(...eventRefs(eventKeys), ...batchRefs(batched));
  if (from !== SOURCE) {
    for (const up of [from, ...upstream(w, from)]) {
      const a = w.actions.find((x) => x.id === up);
      if (a) out.push(...outputRefs(`$.state.${up}`, `state.${up}`, `State`, kinds.get(a.kind)));
    }
  }
  return out;
}
