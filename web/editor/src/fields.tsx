// Form controls for one action input, chosen by the input's schema type, plus the ref picker
// and a JSON editor for values the schema does not describe.
import { useEffect, useState } from 'react';
import type { InputSpec } from './api';
import { isRef, type JSONValue } from './model';
import type { RefOption } from './refs';

export const DURATION = /^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/;

export function RefPicker({ options, onPick, testid }: { options: RefOption[]; onPick: (ref: string) => void; testid: string }) {
  const groups = [...new Set(options.map((o) => o.group))];
  return (
    <select
      className="wf-refpicker"
      value=""
      data-testid={testid}
      aria-label="Insert a reference"
      onChange={(e) => e.target.value && onPick(e.target.value)}
    >
      <option value="">ref…</option>
      {groups.map((g) => (
        <optgroup key={g} label={g}>
          {options
            .filter((o) => o.group === g)
            .map((o) => (
              <option key={o.ref} value={o.ref}>
                {o.label}
              </option>
            ))}
        </optgroup>
      ))}
    </select>
  );
}

interface FieldProps {
  spec: InputSpec;
  value: JSONValue | undefined;
  refs: RefOption[];
  events: string[];
  onChange: (v: JSONValue | undefined) => void;
  testid: string;
}

/** InputField renders one schema input; undefined means "not set" (the default applies). */
export function InputField({ spec, value, refs, events, onChange, testid }: FieldProps) {
  const label = spec.label || spec.name;
  const stringish = spec.type === 'string' || spec.type === 'text' || spec.type === 'duration' || spec.type === 'event';
  const pick = (r: string) => {
    if (stringish && typeof value === 'string' && value !== '' && !isRef(value)) onChange(/\s$/.test(value) ? value + r : `${value} ${r}`);
    else onChange(r);
  };
  let control;
  const bad = value !== undefined && !fits(spec, value);
  if (bad) {
    control = <JSONField value={value} onChange={onChange} testid={testid} />;
  } else if (isRef(value) && !stringish) {
    control = (
      <span className="wf-refvalue">
        <code data-testid={testid}>{value}</code>
        <button type="button" onClick={() => onChange(undefined)} title="Clear the reference">
          ×
        </button>
      </span>
    );
  } else {
    control = typedControl(spec, value, onChange, testid, events);
  }
  return (
    <label className={`wf-field${bad ? ' wf-field-odd' : ''}`}>
      <span className="wf-label">
        {label}
        {spec.required && <span className="wf-required" title="required">*</span>}
        <em>{spec.type}</em>
      </span>
      <span className="wf-control">
        {control}
        <RefPicker options={refs} onPick={pick} testid={`${testid}-ref`} />
      </span>
      {spec.description && <small>{spec.description}</small>}
      {spec.type === 'duration' && typeof value === 'string' && value !== '' && !isRef(value) && !DURATION.test(value) && (
        <small className="wf-hint-bad">Not a duration: use e.g. 90s, 1h30m, 7d.</small>
      )}
    </label>
  );
}

function typedControl(
  spec: InputSpec,
  value: JSONValue | undefined,
  onChange: (v: JSONValue | undefined) => void,
  testid: string,
  events: string[],
) {
  const def = spec.default === undefined || spec.default === null ? '' : String(spec.default);
  const str = (v: string) => onChange(v === '' ? undefined : v);
  switch (spec.type) {
    case 'text':
      return <textarea rows={5} value={(value as string) ?? ''} placeholder={def} onChange={(e) => str(e.target.value)} data-testid={testid} />;
    case 'number':
      return (
        <input
          type="number"
          value={value === undefined ? '' : String(value)}
          placeholder={def}
          onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
          data-testid={testid}
        />
      );
    case 'boolean':
      return (
        <input
          type="checkbox"
          checked={value === undefined ? spec.default === true : value === true}
          onChange={(e) => onChange(e.target.checked)}
          data-testid={testid}
        />
      );
    case 'enum':
      return (
        <select value={(value as string) ?? ''} onChange={(e) => str(e.target.value)} data-testid={testid}>
          <option value="">{def ? `default (${def})` : '—'}</option>
          {(spec.enum ?? []).map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      );
    case 'duration':
      return <input type="text" value={(value as string) ?? ''} placeholder={def || 'e.g. 7d, 1h30m'} onChange={(e) => str(e.target.value)} data-testid={testid} />;
    case 'event':
      return (
        <>
          <input type="text" list="wf-event-names" value={(value as string) ?? ''} placeholder={def || 'domain/noun.verb'} onChange={(e) => str(e.target.value)} data-testid={testid} />
          <datalist id="wf-event-names">
            {events.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        </>
      );
    case 'json':
      return <JSONField value={value} onChange={onChange} testid={testid} />;
    default:
      return <input type="text" value={(value as string) ?? ''} placeholder={def} onChange={(e) => str(e.target.value)} data-testid={testid} />;
  }
}

// fits tells whether a stored value can be shown by the schema's own control; if not (an
// object where a string is expected, say), it is edited as JSON so nothing is lost.
function fits(spec: InputSpec, v: JSONValue): boolean {
  if (isRef(v)) return true;
  switch (spec.type) {
    case 'json':
      return true;
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'enum':
      return typeof v === 'string' && (spec.enum ?? []).includes(v);
    default:
      return typeof v === 'string';
  }
}

/** JSONField edits any JSON value; text that does not parse is shown as an error, not saved. */
export function JSONField({ value, onChange, testid }: { value: JSONValue | undefined; onChange: (v: JSONValue | undefined) => void; testid: string }) {
  const shown = value === undefined ? '' : JSON.stringify(value, null, 2);
  const [text, setText] = useState(shown);
  const [err, setErr] = useState('');
  useEffect(() => {
    // Follow outside changes (undo, restore) but not our own edits, so typing is not reformatted.
    if (!sameJSON(text, value)) {
      setText(shown);
      setErr('');
    }
  }, [shown]);
  return (
    <span className="wf-json">
      <textarea
        rows={Math.min(10, Math.max(2, text.split('\n').length))}
        value={text}
        data-testid={testid}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setErr('');
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setErr('');
          } catch {
            setErr('not valid JSON yet; not saved');
          }
        }}
      />
      {err && <small className="wf-hint-bad">{err}</small>}
    </span>
  );
}

function sameJSON(text: string, v: JSONValue | undefined): boolean {
  if (text.trim() === '') return v === undefined;
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(v);
  } catch {
    return false;
  }
}
