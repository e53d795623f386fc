// The side panel: the selected action's form, the selected edge's condition, or (nothing
// selected) the workflow's own name and description.
import type { ActionKind } from './api';
import { InputField, JSONField, RefPicker } from './fields';
import { setField, undeclaredInputs, type Action, type Edge, type JSONObject, type JSONValue, type Workflow } from './model';
import type { RefOption } from './refs';

export type Change = (fn: (w: Workflow) => Workflow, merge?: string) => void;

interface ActionPanelProps {
  action: Action;
  kind?: ActionKind;
  refs: RefOption[];
  events: string[];
  problems: string[];
  change: Change;
  setInput: (name: string, v: JSONValue | undefined) => void;
  update: (fn: (a: Action) => Action, merge?: string) => void;
}

export function ActionPanel({ action, kind, refs, events, problems, setInput, update }: ActionPanelProps) {
  const inputs = (action.inputs && typeof action.inputs === 'object' && !Array.isArray(action.inputs) ? action.inputs : {}) as JSONObject;
  const extra = undeclaredInputs(action, kind ?? { inputs: [] });
  return (
    <div className="wf-panel" data-testid="action-panel">
      <h2>{kind?.name ?? action.kind}</h2>
      {kind?.description && <p className="wf-muted">{kind.description}</p>}
      {!kind && <p className="wf-problem">This server has no action kind “{action.kind}”. Its inputs are kept as they are.</p>}
      {problems.map((p, i) => (
        <p key={i} className="wf-problem" data-testid="panel-problem">
          {p}
        </p>
      ))}
      <label className="wf-field">
        <span className="wf-label">ID</span>
        <code data-testid="action-id">{action.id}</code>
      </label>
      <label className="wf-field">
        <span className="wf-label">Name</span>
        <input value={typeof action.name === 'string' ? action.name : ''} onChange={(e) => update((a) => setField(a, 'name', e.target.value), `name:${action.id}`)} data-testid="action-name" />
      </label>
      <label className="wf-field">
        <span className="wf-label">Description</span>
        <input
          value={typeof action.description === 'string' ? action.description : ''}
          onChange={(e) => update((a) => setField(a, 'description', e.target.value), `desc:${action.id}`)}
          data-testid="action-description"
        />
      </label>
      {(kind?.inputs ?? []).length > 0 && <h3>Inputs</h3>}
      {(kind?.inputs ?? []).map((spec) => (
        <InputField
          key={spec.name}
          spec={spec}
          value={inputs[spec.name]}
          refs={refs}
          events={events}
          onChange={(v) => setInput(spec.name, v)}
          testid={`input-${spec.name}`}
        />
      ))}
      {extra.length > 0 && <h3>Other inputs</h3>}
      {kind && extra.length > 0 && (
        <p className="wf-warning" data-testid="undeclared-inputs">
          {extra.length === 1 ? `“${extra[0]}” is not an input of ${kind.name}` : `${extra.map((n) => `“${n}”`).join(', ')} are not inputs of ${kind.name}`}
          : kept as workflow-kit keeps them (perhaps from an older version of the action), but no step reads them.
        </p>
      )}
      {extra.map((name) => (
        <label className="wf-field" key={name}>
          <span className="wf-label">
            {name} <em>JSON</em>
            {kind && (
              <button type="button" onClick={() => setInput(name, undefined)} data-testid={`remove-input-${name}`}>
                Remove
              </button>
            )}
          </span>
          <JSONField value={inputs[name]} onChange={(v) => setInput(name, v)} testid={`input-${name}`} />
        </label>
      ))}
      <details className="wf-advanced">
        <summary>Retries and timeout</summary>
        <label className="wf-field">
          <span className="wf-label">
            Retries <em>number</em>
          </span>
          <input
            type="number"
            min={0}
            value={typeof action.retries === 'number' ? action.retries : ''}
            placeholder="engine default (4)"
            data-testid="action-retries"
            onChange={(e) =>
              update((a) => {
                const next = { ...a };
                if (e.target.value === '') delete next.retries;
                else next.retries = Number(e.target.value);
                return next;
              }, `retries:${action.id}`)
            }
          />
        </label>
        <label className="wf-field">
          <span className="wf-label">
            Timeout <em>duration</em>
          </span>
          <input
            value={typeof action.timeout === 'string' ? action.timeout : ''}
            placeholder="none, e.g. 30s"
            data-testid="action-timeout"
            onChange={(e) => update((a) => setField(a, 'timeout', e.target.value), `timeout:${action.id}`)}
          />
        </label>
      </details>
      {kind && kind.outputs.length > 0 && (
        <>
          <h3>Output</h3>
          <ul className="wf-outputs">
            {kind.outputs.map((o) => (
              <li key={o.name}>
                <code>$.state.{action.id}.{o.name}</code> {o.type && <em>{o.type}</em>} {o.description}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

const TYPES = ['', 'if', 'else', 'match'] as const;

export function EdgePanel({ edge, refs, problems, update }: { edge: Edge; refs: RefOption[]; problems: string[]; update: (fn: (e: Edge) => Edge, merge?: string) => void }) {
  const cond = (edge.conditional && typeof edge.conditional === 'object' && !Array.isArray(edge.conditional) ? edge.conditional : null) as JSONObject | null;
  const type = (cond?.type as string) ?? '';
  const setCond = (patch: JSONObject | null, merge?: string) =>
    update((e) => {
      const next = { ...e };
      if (patch === null) delete next.conditional;
      else next.conditional = { ...((e.conditional as JSONObject) ?? {}), ...patch };
      return next;
    }, merge);
  const valueText = cond && 'value' in cond ? (typeof cond.value === 'string' ? cond.value : JSON.stringify(cond.value)) : '';
  return (
    <div className="wf-panel" data-testid="edge-panel">
      <h2>
        Edge <code>{edge.from}</code> → <code>{edge.to}</code>
      </h2>
      {problems.map((p, i) => (
        <p key={i} className="wf-problem">
          {p}
        </p>
      ))}
      <label className="wf-field">
        <span className="wf-label">Name</span>
        <input value={typeof edge.name === 'string' ? edge.name : ''} onChange={(e) => update((x) => setField(x, 'name', e.target.value), 'edge-name')} data-testid="edge-name" />
      </label>
      <label className="wf-field">
        <span className="wf-label">Condition</span>
        <select
          value={type}
          data-testid="edge-type"
          onChange={(e) => {
            const t = e.target.value;
            if (t === '') setCond(null);
            else setCond({ type: t, ref: (cond?.ref as string) ?? '!ref($.output)' });
          }}
        >
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t === '' ? 'always' : t === 'if' ? 'if (ref is truthy)' : t === 'else' ? 'else (ref is falsy)' : 'match (ref equals value)'}
            </option>
          ))}
        </select>
      </label>
      {cond && (
        <label className="wf-field">
          <span className="wf-label">Ref</span>
          <span className="wf-control">
            <input value={(cond.ref as string) ?? ''} onChange={(e) => setCond({ ref: e.target.value }, 'edge-ref')} data-testid="edge-ref" />
            <RefPicker options={refs} onPick={(r) => setCond({ ref: r })} testid="edge-ref-picker" />
          </span>
          <small>
            <code>$.output</code> is the output of <code>{edge.from}</code>.
          </small>
        </label>
      )}
      {type === 'match' && (
        <label className="wf-field">
          <span className="wf-label">Value</span>
          <input
            value={valueText}
            data-testid="edge-value"
            placeholder='"approved", 42, true'
            onChange={(e) => {
              const t = e.target.value;
              let v: JSONValue = t;
              try {
                v = JSON.parse(t);
              } catch {
                v = t; // plain text is a string value
              }
              setCond({ value: v }, 'edge-value');
            }}
          />
          <small>JSON (42, true, "x") or plain text for a string.</small>
        </label>
      )}
    </div>
  );
}

interface WorkflowPanelProps {
  name: string;
  description: string;
  concurrencyKey: string;
  onName: (v: string) => void;
  onDescription: (v: string) => void;
  onConcurrencyKey: (v: string) => void;
}

export function WorkflowPanel({ name, description, concurrencyKey, onName, onDescription, onConcurrencyKey }: WorkflowPanelProps) {
  return (
    <div className="wf-panel" data-testid="workflow-panel">
      <h2>Workflow</h2>
      <label className="wf-field">
        <span className="wf-label">Name</span>
        <input value={name} onChange={(e) => onName(e.target.value)} data-testid="workflow-name" />
      </label>
      <label className="wf-field">
        <span className="wf-label">Description</span>
        <textarea rows={3} value={description} onChange={(e) => onDescription(e.target.value)} data-testid="workflow-description" />
      </label>
      <label className="wf-field">
        <span className="wf-label">Concurrency key</span>
        <input value={concurrencyKey} placeholder="e.g. event.data.id" onChange={(e) => onConcurrencyKey(e.target.value)} data-testid="workflow-concurrency" />
        <small>Runs with the same key run one at a time. Empty: no limit.</small>
      </label>
      <p className="wf-muted">
        Drag actions from the palette, connect them from the trigger, select a node to edit its inputs, select an edge to make it conditional.
        Delete removes the selection; Ctrl+Z / Ctrl+Shift+Z undo and redo.
      </p>
    </div>
  );
}
