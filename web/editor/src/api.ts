// The JSON API the editor talks to (DESIGN.md, "HTTP contract"). Every unsafe request carries
// the CSRF token the page rendered, under the header name the page names.
import type { JSONObject, JSONValue, Workflow } from './model';

/** One input of an action kind, as GET /api/actions describes it. */
export interface InputSpec {
  name: string;
  type: 'string' | 'text' | 'number' | 'boolean' | 'enum' | 'duration' | 'event' | string;
  label?: string;
  description?: string;
  required?: boolean;
  default?: JSONValue;
  enum?: string[];
}

/** One output field of an action kind, offered as a ref to downstream actions. */
export interface OutputField {
  name: string;
  type?: string;
  description?: string;
}

export interface ActionKind {
  kind: string;
  name: string;
  description: string;
  /** category groups the kind in the palette ("Flow", "AI"...); "" lists it under Other. */
  category: string;
  inputs: InputSpec[];
  outputs: OutputField[];
  /** edges are presets for edges drawn from this kind (builtin:if's True and False). */
  edges: { name: string; conditional?: JSONObject }[];
}

export interface WorkflowRecord {
  id: number | string;
  name: string;
  description: string;
  trigger: string;
  enabled: boolean;
  version?: number;
  workflow: Workflow;
  [k: string]: unknown;
}

export interface Version {
  version: number;
  saved_at?: string | number;
  created_at?: string | number;
  workflow?: Workflow;
  [k: string]: unknown;
}

/** ApiError carries the server's message and its per-field messages. */
export class ApiError extends Error {
  constructor(
    message: string,
    public status: number,
    public fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface Config {
  api: string; // "/api"
  csrfHeader: string;
  csrfToken: string;
}

export class Client {
  constructor(private cfg: Config) {}

  async req<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && this.cfg.csrfToken) headers[this.cfg.csrfHeader] = this.cfg.csrfToken;
    const res = await fetch(this.cfg.api + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data: any = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const msg = (data && typeof data.error === 'string' && data.error) || `${method} ${path}: HTTP ${res.status}`;
      throw new ApiError(msg, res.status, (data && data.fields) || {});
    }
    return data as T;
  }

  async actions(): Promise<ActionKind[]> {
    const data = await this.req<any>('GET', '/actions');
    const list: any[] = Array.isArray(data) ? data : data?.actions ?? data?.kinds ?? [];
    return list.map(toKind).sort((a, b) => a.name.localeCompare(b.name));
  }

  async workflow(id: string): Promise<WorkflowRecord> {
    return unwrap(await this.req<any>('GET', `/workflows/${id}`));
  }

  async save(id: string, body: object): Promise<WorkflowRecord> {
    return unwrap(await this.req<any>('PUT', `/workflows/${id}`, body));
  }

  async validate(body: object): Promise<void> {
    await this.req('POST', '/workflows/validate', body);
  }

  async versions(id: string): Promise<Version[]> {
    const data = await this.req<any>('GET', `/workflows/${id}/versions`);
    const list: any[] = Array.isArray(data) ? data : data?.versions ?? [];
    return list.sort((a, b) => (b.version ?? 0) - (a.version ?? 0));
  }

  /** deleteWorkflow deletes the workflow (admins): it starts no more runs; runs in flight finish. */
  async deleteWorkflow(id: string): Promise<void> {
    await this.req('DELETE', `/workflows/${id}`);
  }

  async setEnabled(id: string, on: boolean): Promise<void> {
    await this.req('POST', `/workflows/${id}/${on ? 'enable' : 'disable'}`);
  }

  /** sendEvent sends one event and returns the ids of the runs it started. */
  async sendEvent(name: string, data: JSONObject): Promise<string[]> {
    const res = await this.req<any>('POST', '/events', { name, data });
    const runs: any[] = res?.runs ?? [];
    return runs.map((r) => String(typeof r === 'object' && r ? r.id ?? r.run_id : r));
  }

  /**
   * postAction makes the change of post data.id that sends the blog-post.* event name (sent
   * to review for blog-post.updated, ...) and returns the ids of the post's runs, newest first.
   */
  async postAction(name: string, data: JSONObject): Promise<string[]> {
    const verbs: Record<string, string> = {
      'blog-post.updated': 'review',
      'blog-post.published': 'publish',
      'blog-post.unpublished': 'unpublish',
      'blog-post.approve-ai-suggestions': 'approve',
      'blog-post.reject-ai-suggestions': 'reject',
    };
    const verb = verbs[name];
    if (!verb) throw new Error(`${name} is sent by the CMS when a post is created: create a post to test this workflow`);
    const id = Number(data.id);
    if (!Number.isInteger(id) || id <= 0) throw new Error('data.id must be the id of a post');
    const post = await this.req<any>('POST', `/posts/${id}/${verb}`, {});
    const runs: any[] = post?.runs ?? [];
    return runs.map((r) => String(r?.id ?? r));
  }

  /** recentEvent returns the data of the latest event with that name, if any. */
  async recentEvent(name: string): Promise<JSONObject | null> {
    const res = await this.req<any>('GET', `/events?name=${encodeURIComponent(name)}&limit=1`);
    const ev = (res?.events ?? [])[0];
    return ev && ev.data && typeof ev.data === 'object' ? ev.data : null;
  }
}

function unwrap(data: any): WorkflowRecord {
  const rec = data?.workflow && data.workflow.workflow ? data.workflow : data;
  return rec as WorkflowRecord;
}

// toKind accepts the registry's JSON with a few spellings (name/kind, inputs as a list or a
// map) so a small change on the server does not blank the palette.
function toKind(k: any): ActionKind {
  const kind = String(k.kind ?? k.name ?? k.id ?? '');
  const inputsRaw = k.inputs ?? k.input ?? [];
  const inputs: InputSpec[] = Array.isArray(inputsRaw)
    ? inputsRaw.map(toInput)
    : Object.entries(inputsRaw).map(([name, v]: [string, any]) => toInput({ name, ...v }));
  const outputs = outputFields(k.output ?? k.outputs);
  return {
    kind,
    name: String(k.title || k.label || (k.kind ? k.name : '') || kind),
    description: String(k.description ?? ''),
    category: typeof k.category === 'string' ? k.category : '',
    inputs,
    outputs,
    edges: Array.isArray(k.edges) ? k.edges.filter((e: any) => e && typeof e.name === 'string') : [],
  };
}

// outputFields flattens the kind's output shape ({type, fields: {name: shape}}) into dotted
// paths two levels deep, the refs worth offering; a list of names is accepted too.
function outputFields(shape: any, prefix = '', depth = 0): OutputField[] {
  if (!shape || depth > 1) return [];
  if (Array.isArray(shape)) return shape.map((o: any) => (typeof o === 'string' ? { name: o } : o)).filter((o: any) => o && o.name);
  const out: OutputField[] = [];
  for (const [name, f] of Object.entries<any>(shape.fields ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    out.push({ name: prefix + name, type: f?.type, description: f?.description });
    out.push(...outputFields(f, `${prefix}${name}.`, depth + 1));
  }
  return out;
}

function toInput(i: any): InputSpec {
  return {
    name: String(i.name),
    type: String(i.type ?? 'string'),
    label: i.label || i.title,
    description: i.description,
    required: !!i.required,
    default: i.default,
    enum: i.enum ?? i.values ?? i.options,
  };
}
