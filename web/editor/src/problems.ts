// Turns a 422 from the server (`{"error", "fields": {field: message}}`) into messages on the
// actions and edges they are about, so the user sees the problem on the offending node.
import type { ApiError } from './api';
import type { Workflow } from './model';

export interface Problems {
  actions: Record<string, string[]>;
  edges: Record<number, string[]>;
  general: string[];
  /** settings are the problems of the Settings panel's fields, by the server's field name. */
  settings: Record<string, string>;
}

export const none: Problems = { actions: {}, edges: {}, general: [], settings: {} };

/** isSetting tells the fields the Settings panel edits: triggers and the flow control config. */
export function isSetting(field: string): boolean {
  return /^(config|triggers)([.[]|$)/.test(field);
}

export function fromError(err: ApiError, w: Workflow): Problems {
  const p: Problems = { actions: {}, edges: {}, general: [], settings: {} };
  const ids = new Set(w.actions.map((a) => a.id));
  const add = <K extends string | number>(m: Record<K, string[]>, k: K, msg: string) => {
    (m[k] ??= []).includes(msg) || m[k].push(msg);
  };
  const fields = Object.entries(err.fields ?? {});
  for (const [field, msg] of fields) {
    if (isSetting(field)) {
      p.settings[field] = msg;
      p.general.push(`Settings: ${field}: ${msg}`);
      continue;
    }
    const text = describe(field, msg);
    const action = actionOf(field, w, ids);
    if (action !== null) {
      add(p.actions, action, text);
      continue;
    }
    const edge = /^edges?[[.](\d+)/.exec(field);
    if (edge && Number(edge[1]) < w.edges.length) {
      add(p.edges, Number(edge[1]), text);
      const e = w.edges[Number(edge[1])];
      if (ids.has(e.to)) add(p.actions, e.to, text);
      continue;
    }
    p.general.push(text);
  }
  if (fields.length === 0) {
    // No field map: find the action the message names ("action \"x\" ...", 'x', `x`).
    const named = [...err.message.matchAll(/["'`]([^"'`]+)["'`]/g)].map((m) => m[1]).find((s) => ids.has(s));
    if (named) add(p.actions, named, err.message);
    else p.general.push(err.message);
  } else if (p.general.length === 0 && Object.keys(p.actions).length === 0 && Object.keys(p.edges).length === 0) {
    p.general.push(err.message);
  }
  return p;
}

function describe(field: string, msg: string): string {
  const input = /inputs?[[.]"?([^\]".]+)/.exec(field);
  return input && !msg.includes(input[1]) ? `${input[1]}: ${msg}` : msg;
}

// actionOf reads the action a field key points at: actions[2].inputs.x, actions.2, actions[id],
// actions.id.inputs.x, or a key that starts with an action id.
function actionOf(field: string, w: Workflow, ids: Set<string>): string | null {
  // The server's form, actions.<id>[.more]; ids may hold dots, so the longest match wins.
  let best: string | null = null;
  for (const id of ids) {
    if ((field === `actions.${id}` || field.startsWith(`actions.${id}.`)) && (best === null || id.length > best.length)) best = id;
  }
  if (best !== null) return best;
  const m = /^actions?(?:\[("?)([^\]"]+)\1\]|\.([^.]+))/.exec(field);
  if (m) {
    const token = m[2] ?? m[3];
    if (ids.has(token)) return token;
    if (/^\d+$/.test(token) && Number(token) < w.actions.length) return w.actions[Number(token)].id;
  }
  for (const id of ids) {
    if (field === id || field.startsWith(id + '.')) return id;
  }
  return null;
}
