// A Draft is what the user edits and what undo/redo steps through: the workflow document and
// the record fields saved with it.
import type { Version, WorkflowRecord } from './api';
import type { JSONObject, JSONValue, Workflow } from './model';

/** CRON_PREFIX starts a schedule trigger; SCHEDULED_EVENT is what the scheduler sends to run
 * one scheduled workflow (engine/workflow/trigger.go). */
export const CRON_PREFIX = 'cron:';
export const SCHEDULED_EVENT = 'inkflow/workflow.scheduled';
/** POST_EVENT_PREFIX starts the events only the CMS sends (a post's status changes). */
export const POST_EVENT_PREFIX = 'blog-post.';

/** One trigger as the API writes it: an event with an optional CEL `if`, or a schedule. */
export interface TriggerSpec {
  event?: string;
  if?: string;
  cron?: string;
}

export interface Draft {
  name: string;
  description: string;
  /** trigger is the first trigger as one string (an event name or "cron: ..."): the toolbar's. */
  trigger: string;
  triggers: TriggerSpec[];
  concurrencyKey: string;
  /** config is the flow control object of the API (DESIGN.md), edited in the Settings panel. */
  config: JSONObject;
  workflow: Workflow;
}

export function fromRecord(r: WorkflowRecord, w: Workflow): Draft {
  const triggers: TriggerSpec[] = Array.isArray(r.triggers)
    ? (r.triggers as TriggerSpec[])
    : r.trigger
      ? [parseTrigger(String(r.trigger))]
      : [];
  const config = r.config && typeof r.config === 'object' && !Array.isArray(r.config) ? (r.config as JSONObject) : {};
  return {
    name: r.name ?? '',
    description: r.description ?? '',
    trigger: legacyTrigger(triggers[0]),
    triggers,
    concurrencyKey: typeof r.concurrency_key === 'string' ? r.concurrency_key : '',
    config,
    workflow: w,
  };
}

/** parseTrigger reads the single trigger string: "cron: <schedule>" or an event name. */
export function parseTrigger(t: string): TriggerSpec {
  const s = t.trim();
  if (s.startsWith(CRON_PREFIX)) return { cron: s.slice(CRON_PREFIX.length).trim() };
  return { event: s };
}

export function legacyTrigger(t?: TriggerSpec): string {
  if (!t) return '';
  if (t.cron !== undefined) return `${CRON_PREFIX} ${t.cron}`;
  return t.event ?? '';
}

/** withFirstTrigger is d with its first trigger set from the toolbar's string (its `if` kept). */
export function withFirstTrigger(d: Draft, t: string): Partial<Draft> {
  const first = parseTrigger(t);
  const old = d.triggers[0];
  if (first.event !== undefined && old?.if) first.if = old.if;
  const rest = d.triggers.slice(1);
  const triggers = t.trim() === '' && rest.length === 0 ? [] : [first, ...rest];
  return { trigger: t, triggers };
}

/** withTriggers is the patch for a new trigger list (the toolbar shows the first). */
export function withTriggers(list: TriggerSpec[]): Partial<Draft> {
  return { triggers: list, trigger: legacyTrigger(list[0]) };
}

/**
 * setConfig returns config with the value at path set (undefined, '' or NaN removes it, and
 * an object or list left empty goes too), copying only what changes.
 */
export function setConfig(config: JSONObject, path: (string | number)[], v: JSONValue | undefined): JSONObject {
  return (setAt(config, path, v) as JSONObject | undefined) ?? {};
}

function setAt(node: JSONValue | undefined, path: (string | number)[], v: JSONValue | undefined): JSONValue | undefined {
  const empty = v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v));
  if (path.length === 0) return empty ? undefined : v;
  const [head, ...rest] = path;
  if (typeof head === 'number') {
    const list = Array.isArray(node) ? [...node] : [];
    const next = setAt(list[head], rest, v);
    if (next === undefined) list.splice(head, 1);
    else list[head] = next;
    return list.length ? list : undefined;
  }
  const obj: JSONObject = node && typeof node === 'object' && !Array.isArray(node) ? { ...(node as JSONObject) } : {};
  const next = setAt(obj[head], rest, v);
  if (next === undefined) delete obj[head];
  else obj[head] = next;
  return Object.keys(obj).length ? obj : undefined;
}

/** configAt reads the value at path, or undefined. */
export function configAt(config: JSONObject, path: (string | number)[]): JSONValue | undefined {
  let n: JSONValue | undefined = config;
  for (const k of path) {
    if (n === null || typeof n !== 'object') return undefined;
    n = (n as any)[k];
  }
  return n;
}

/**
 * body is the JSON for PUT /api/workflows/{id} and POST /api/workflows/validate. base_version
 * is the version the user started from: the server refuses (409) a save over a newer one.
 */
export function body(d: Draft, enabled: boolean, baseVersion?: number) {
  return {
    name: d.name,
    description: d.description,
    triggers: d.triggers,
    enabled,
    concurrency_key: d.concurrencyKey,
    config: d.config,
    workflow: d.workflow,
    ...(baseVersion ? { base_version: baseVersion } : {}),
  };
}

/** diff summarises how a version differs from the draft, in words a user can scan. */
export function diff(from: Workflow, to: Workflow): string[] {
  const out: string[] = [];
  const a = new Map(from.actions.map((x) => [x.id, x]));
  const b = new Map(to.actions.map((x) => [x.id, x]));
  for (const [id, x] of b) {
    if (!a.has(id)) out.push(`+ action ${id} (${x.kind})`);
    else if (JSON.stringify(a.get(id)) !== JSON.stringify(x)) out.push(`~ action ${id} changed`);
  }
  for (const [id, x] of a) if (!b.has(id)) out.push(`− action ${id} (${x.kind})`);
  const ek = (w: Workflow) => new Map(w.edges.map((e, i) => [`${e.from} → ${e.to}`, JSON.stringify(e)]));
  const ea = ek(from);
  const eb = ek(to);
  for (const [k, v] of eb) {
    if (!ea.has(k)) out.push(`+ edge ${k}`);
    else if (ea.get(k) !== v) out.push(`~ edge ${k} changed`);
  }
  for (const k of ea.keys()) if (!eb.has(k)) out.push(`− edge ${k}`);
  return out;
}

export function versionLabel(v: Version): string {
  const when = v.saved_at ?? v.created_at;
  const at = when ? new Date(typeof when === 'number' ? when : String(when)).toLocaleString() : '';
  return `v${v.version}${at ? ' · ' + at : ''}`;
}

