// A Draft is what the user edits and what undo/redo steps through: the workflow document and
// the record fields saved with it.
import type { Version, WorkflowRecord } from './api';
import type { Workflow } from './model';

/** CRON_PREFIX starts a schedule trigger; SCHEDULED_EVENT is what the scheduler sends to run
 * one scheduled workflow (engine/workflow/trigger.go). */
export const CRON_PREFIX = 'cron:';
export const SCHEDULED_EVENT = 'inkflow/workflow.scheduled';
/** POST_EVENT_PREFIX starts the events only the CMS sends (a post's status changes). */
export const POST_EVENT_PREFIX = 'blog-post.';

export interface Draft {
  name: string;
  description: string;
  trigger: string;
  concurrencyKey: string;
  workflow: Workflow;
}

export function fromRecord(r: WorkflowRecord, w: Workflow): Draft {
  return {
    name: r.name ?? '',
    description: r.description ?? '',
    trigger: r.trigger ?? '',
    concurrencyKey: typeof r.concurrency_key === 'string' ? r.concurrency_key : '',
    workflow: w,
  };
}

/**
 * body is the JSON for PUT /api/workflows/{id} and POST /api/workflows/validate. base_version
 * is the version the user started from: the server refuses (409) a save over a newer one.
 */
export function body(d: Draft, enabled: boolean, baseVersion?: number) {
  return {
    name: d.name,
    description: d.description,
    trigger: d.trigger,
    enabled,
    concurrency_key: d.concurrencyKey,
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

