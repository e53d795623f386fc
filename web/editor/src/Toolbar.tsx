// The toolbar: trigger picker, enable switch, undo/redo, layout, import/export, versions (with
// diff and restore), test run and save.
import { useRef, useState } from 'react';
import type { Client, Version } from './api';
import { CRON_PREFIX, diff, POST_EVENT_PREFIX, versionLabel, type Draft } from './draft';
import type { JSONObject } from './model';

interface Props {
  client: Client;
  id: string;
  draft: Draft;
  version?: number;
  enabled: boolean;
  dirty: boolean;
  canUndo: boolean;
  canRedo: boolean;
  events: string[];
  eventKeys: string[];
  onTrigger: (t: string) => void;
  settingsOpen: boolean;
  onSettings: () => void;
  onUndo: () => void;
  onRedo: () => void;
  onLayout: () => void;
  onSave: () => Promise<boolean>;
  onEnabled: (on: boolean) => void;
  onImport: (json: string) => void;
  onRestore: (v: Version) => void;
  onTestRun: (data: JSONObject) => Promise<void>;
  onDelete: () => void;
}

export function Toolbar(p: Props) {
  const file = useRef<HTMLInputElement>(null);
  const [open, setOpen] = useState<'versions' | 'test' | null>(null);
  const exportJSON = () => {
    const blob = new Blob([JSON.stringify(p.draft.workflow, null, 2) + '\n'], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `workflow-${p.id}.json`;
    a.click();
    // Revoking at once can cancel a download the browser has not started yet.
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  };
  return (
    <header className="wf-toolbar">
      <span className="wf-title" data-testid="editor-title">
        {p.draft.name || 'Untitled workflow'}
        {p.version !== undefined && <small data-testid="editor-version"> v{p.version}</small>}
      </span>
      <label className="wf-trigger">
        Trigger
        <input list="wf-trigger-names" value={p.draft.trigger} onChange={(e) => p.onTrigger(e.target.value)} placeholder="blog-post.updated" data-testid="trigger" />
        <datalist id="wf-trigger-names">
          {p.events.map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
      </label>
      <button
        type="button"
        className={p.settingsOpen ? 'wf-active' : undefined}
        onClick={p.onSettings}
        title="Triggers, concurrency, debounce, throttle and the other flow control options"
        data-testid="open-settings"
      >
        Settings{p.draft.triggers.length > 1 ? ` (${p.draft.triggers.length} triggers)` : ''}
      </button>
      <label className="wf-switch" title="Only enabled workflows start runs">
        <input type="checkbox" checked={p.enabled} onChange={(e) => p.onEnabled(e.target.checked)} data-testid="enabled" />
        Enabled
      </label>
      <span className="wf-spacer" />
      <button type="button" onClick={p.onUndo} disabled={!p.canUndo} title="Undo (Ctrl+Z)" data-testid="undo">
        Undo
      </button>
      <button type="button" onClick={p.onRedo} disabled={!p.canRedo} title="Redo (Ctrl+Shift+Z)" data-testid="redo">
        Redo
      </button>
      <button type="button" onClick={p.onLayout} data-testid="layout">
        Auto-layout
      </button>
      <button type="button" onClick={() => file.current?.click()} data-testid="import">
        Import
      </button>
      <input
        ref={file}
        type="file"
        accept="application/json,.json"
        hidden
        data-testid="import-file"
        onChange={async (e) => {
          const f = e.target.files?.[0];
          if (f) p.onImport(await f.text());
          e.target.value = '';
        }}
      />
      <button type="button" onClick={exportJSON} data-testid="export">
        Export
      </button>
      <button type="button" onClick={() => setOpen(open === 'versions' ? null : 'versions')} data-testid="versions">
        Versions
      </button>
      <button type="button" onClick={() => setOpen(open === 'test' ? null : 'test')} data-testid="test-run">
        Test run
      </button>
      <button type="button" className="wf-danger" onClick={p.onDelete} title="Delete this workflow" data-testid="delete-workflow">
        Delete
      </button>
      <button type="button" className="wf-primary" onClick={p.onSave} disabled={!p.dirty} data-testid="save">
        Save
      </button>
      {open === 'versions' && <Versions {...p} close={() => setOpen(null)} />}
      {open === 'test' && <TestRun {...p} close={() => setOpen(null)} />}
    </header>
  );
}

function Versions(p: Props & { close: () => void }) {
  const [list, setList] = useState<Version[] | null>(null);
  const [err, setErr] = useState('');
  const [shown, setShown] = useState<number | null>(null);
  if (list === null && !err) {
    p.client.versions(p.id).then(setList, (e) => setErr(e.message));
  }
  return (
    <div className="wf-popover" data-testid="versions-list">
      <h3>Versions</h3>
      {err && <p className="wf-problem">{err}</p>}
      {list === null && !err && <p>Loading…</p>}
      {list?.length === 0 && <p>No saved version yet.</p>}
      <ul>
        {list?.map((v) => {
          const changes = v.workflow ? diff(p.draft.workflow, v.workflow) : [];
          return (
            <li key={v.version} data-testid={`version-${v.version}`}>
              <span>
                {versionLabel(v)}
                {v.version === p.version && <em> (current)</em>}
              </span>
              <button type="button" onClick={() => setShown(shown === v.version ? null : v.version)} disabled={!v.workflow}>
                Diff
              </button>
              <button
                type="button"
                disabled={!v.workflow}
                data-testid={`restore-${v.version}`}
                onClick={() => {
                  p.onRestore(v);
                  p.close();
                }}
              >
                Restore
              </button>
              {shown === v.version && (
                <pre className="wf-diff">{changes.length ? changes.join('\n') : 'Same graph as the editor.'}</pre>
              )}
            </li>
          );
        })}
      </ul>
      <button type="button" onClick={p.close}>
        Close
      </button>
    </div>
  );
}

function TestRun(p: Props & { close: () => void }) {
  const [text, setText] = useState(() => JSON.stringify(Object.fromEntries(p.eventKeys.map((k) => [k, k === 'id' ? 1 : ''])), null, 2));
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const send = async () => {
    setErr('');
    let data: JSONObject;
    try {
      data = JSON.parse(text);
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error('event data must be a JSON object');
    } catch (e) {
      setErr((e as Error).message);
      return;
    }
    setBusy(true);
    try {
      if (p.dirty && !(await p.onSave())) throw new Error('save failed; fix the workflow first');
      await p.onTestRun(data);
    } catch (e) {
      setErr((e as Error).message);
      setBusy(false);
    }
  };
  return (
    <div className="wf-popover" data-testid="test-run-dialog">
      <h3>
        {p.draft.trigger.startsWith(CRON_PREFIX) ? (
          <>Run the schedule now</>
        ) : (
          <>
            Send <code>{p.draft.trigger || '(no trigger)'}</code>
          </>
        )}
      </h3>
      <p className="wf-muted">
        {p.draft.trigger.startsWith(POST_EVENT_PREFIX)
          ? 'Makes the change to post data.id through the CMS, which sends this event'
          : 'Sends a real event with this data'}
        {p.dirty ? ' after saving' : ''}; the saved, enabled version runs and its run page opens.
        {!p.enabled && <strong> This workflow is disabled: enable it first.</strong>}
      </p>
      <textarea rows={6} value={text} onChange={(e) => setText(e.target.value)} data-testid="test-run-data" />
      {err && <p className="wf-problem">{err}</p>}
      <button type="button" className="wf-primary" onClick={send} disabled={busy || !p.draft.trigger} data-testid="test-run-send">
        Send event
      </button>
      <button type="button" onClick={p.close}>
        Cancel
      </button>
    </div>
  );
}
