// The editor: canvas in the middle, palette on the left, side panel on the right, toolbar on
// top. The Draft (in an undo history) is the single source of truth; canvas nodes and edges
// are derived from it, keeping only view state (measured size, selection) of their own.
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge as FlowEdge,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type ActionKind, type Client, type Version, type WorkflowRecord } from './api';
import { body, CRON_PREFIX, fromRecord, POST_EVENT_PREFIX, SCHEDULED_EVENT, withFirstTrigger, withTriggers, type Draft } from './draft';
import * as H from './history';
import { anchorOf, layout } from './layout';
import * as M from './model';
import { SOURCE, type JSONValue, type Position, type Workflow } from './model';
import { nodeTypes, type EditorNode } from './nodes';
import { DND_TYPE, Palette } from './Palette';
import { ActionPanel, EdgePanel, WorkflowPanel } from './panels';
import { none, fromError, type Problems } from './problems';
import * as R from './refs';
import { Toolbar } from './Toolbar';
import { SettingsPanel } from './settings';

export interface EditorProps {
  client: Client;
  id: string;
  record: WorkflowRecord;
  kinds: ActionKind[];
  events: string[];
  runsURL: string;
}

export function Editor({ client, id, record, kinds, events, runsURL }: EditorProps) {
  const rf = useReactFlow();
  const [hist, setHist] = useState(() => H.start(fromRecord(record, M.normalize(record.workflow ?? {}))));
  const draft = hist.present;
  const [saved, setSaved] = useState<Draft>(draft);
  const [version, setVersion] = useState<number | undefined>(record.version);
  const [enabled, setEnabled] = useState(!!record.enabled);
  const [problems, setProblems] = useState<Problems>(none);
  const [status, setStatus] = useState<{ text: string; bad?: boolean }>({ text: '' });
  const [eventKeys, setEventKeys] = useState<string[]>(['id']);
  const [nodes, setNodes] = useState<EditorNode[]>([]);
  const [selectedEdges, setSelectedEdges] = useState<Set<string>>(new Set());
  const [settingsOpen, setSettingsOpen] = useState(false);
  const selectNext = useRef<string | null>(null);
  // Where each node was last drawn, so that undoing a delete puts the node back in place.
  const lastSeen = useRef(new Map<string, Position>());
  const kindMap = useMemo(() => new Map(kinds.map((k) => [k.kind, k])), [kinds]);
  const dirty = draft !== saved;

  const change = useCallback((fn: (w: Workflow) => Workflow, merge?: string) => {
    setHist((h) => H.push(h, { ...h.present, workflow: fn(h.present.workflow) }, merge ?? null));
  }, []);
  const changeDraft = useCallback((patch: Partial<Draft>, merge?: string) => {
    setHist((h) => H.push(h, { ...h.present, ...patch }, merge ?? null));
  }, []);

  // --- canvas nodes, derived from the draft ------------------------------------------------
  useEffect(() => {
    setNodes((prev) => deriveNodes(prev, draft, kindMap, problems, selectNext, lastSeen.current));
  }, [draft, kindMap, problems]);

  const edges: FlowEdge[] = useMemo(
    () =>
      draft.workflow.edges.map((e, i) => {
        const key = M.edgeKey(e, i);
        const c = e.conditional as M.JSONObject | undefined;
        const name = typeof e.name === 'string' && e.name ? e.name : '';
        const cond = c && typeof c === 'object' ? conditionLabel(c) : '';
        const label = name && cond ? `${name}: ${cond}` : name || cond || undefined;
        const bad = !!problems.edges[i];
        const selected = selectedEdges.has(key);
        return {
          id: key,
          source: e.from,
          target: e.to,
          label,
          selected,
          animated: !!c,
          className: bad ? 'wf-edge-invalid' : c ? 'wf-edge-conditional' : undefined,
          // An arrowhead says which way the flow goes, in the edge's own colour.
          markerEnd: { type: MarkerType.ArrowClosed, width: 20, height: 20, color: bad ? '#d92d20' : selected || c ? '#4f46e5' : '#667085' },
          data: { index: i },
        };
      }),
    [draft.workflow.edges, selectedEdges, problems],
  );

  const onNodesChange = useCallback((changes: NodeChange<EditorNode>[]) => {
    // Removal goes through onDelete, so it lands in the draft as one undoable step.
    setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== 'remove'), ns));
  }, []);
  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const next = applyEdgeChanges(changes.filter((c) => c.type === 'select'), edges);
      setSelectedEdges(new Set(next.filter((e) => e.selected).map((e) => e.id)));
    },
    [edges],
  );
  const onDelete = useCallback(
    ({ nodes: ns, edges: es }: { nodes: EditorNode[]; edges: FlowEdge[] }) => {
      const ids = new Set(ns.filter((n) => n.id !== SOURCE).map((n) => n.id));
      const idx = new Set(es.map((e) => (e.data as { index: number }).index));
      change((w) => M.remove(w, ids, idx));
      setSelectedEdges(new Set());
    },
    [change],
  );
  const onConnect = useCallback(
    (c: Connection) => change((w) => withPreset(M.connect(w, c.source, c.target), w, c.source, kindMap)),
    [change, kindMap],
  );
  const savePositions = useCallback(() => {
    change((w) => M.withPositions(w, currentPositions(rf.getNodes() as EditorNode[])));
  }, [change, rf]);

  // addKind adds an action of kind: dropped at `at`, unconnected; or (Enter, double-click)
  // below the anchor (the selected node, else the lowest action nothing follows, else the
  // trigger) and connected from it, so a chain is built by pressing Enter.
  const addKind = useCallback(
    (kind: string, at?: Position) => {
      const k = kindMap.get(kind);
      const ns = rf.getNodes() as EditorNode[];
      const current = currentPositions(ns);
      change((w) => {
        const { w: added, id: newID } = M.addAction(w, kind, {}, k?.name ?? kind);
        selectNext.current = newID;
        if (at) return M.withPositions(added, { ...current, [newID]: at });
        const from = anchorOf(w, ns);
        const base = current[from] ?? { x: 0, y: 0 };
        const siblings = w.edges.filter((e) => e.from === from).length;
        const pos = { x: base.x + siblings * 250, y: base.y + 130 };
        return M.withPositions(withPreset(M.connect(added, from, newID), added, from, kindMap), { ...current, [newID]: pos });
      });
    },
    [change, kindMap, rf],
  );
  // autoPan moves the canvas while something is dragged from the palette near its edge, so a
  // drop can land outside the visible part (React Flow pans by itself for node drags).
  const autoPan = useCallback(
    (e: React.DragEvent) => {
      const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
      const zone = 48;
      const step = (d: number) => (d < zone ? Math.round((zone - d) / 3) : 0);
      const dx = step(e.clientX - r.left) - step(r.right - e.clientX);
      const dy = step(e.clientY - r.top) - step(r.bottom - e.clientY);
      if (!dx && !dy) return;
      const vp = rf.getViewport();
      rf.setViewport({ x: vp.x + dx, y: vp.y + dy, zoom: vp.zoom });
    },
    [rf],
  );
  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const kind = e.dataTransfer.getData(DND_TYPE);
      if (!kind) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addKind(kind, { x: p.x - 110, y: p.y - 30 });
    },
    [addKind, rf],
  );

  // --- undo / redo keys (text fields keep their own undo) -------------------------------------
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      if (!(e.ctrlKey || e.metaKey)) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) setHist(H.undo);
      else if ((k === 'z' && e.shiftKey) || k === 'y') setHist(H.redo);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  // leaving is set once the workflow is deleted: its unsaved changes are gone on purpose.
  const leaving = useRef(false);
  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (dirty && !leaving.current) e.preventDefault();
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  // --- server validation, shortly after each change ---------------------------------------------
  const validation = useRef(0);
  useEffect(() => {
    const n = ++validation.current;
    const t = setTimeout(async () => {
      try {
        await client.validate(body(draft, enabled));
        if (n !== validation.current) return;
        setProblems(none);
        // The problem a red status bar reported ("Not saved: ...") is fixed: say so.
        setStatus((s) => (s.bad ? { text: '' } : s));
      } catch (err) {
        if (n !== validation.current) return;
        if (err instanceof ApiError && (err.status === 422 || err.status === 400)) setProblems(fromError(err, draft.workflow));
        else setStatus({ text: `Could not validate: ${(err as Error).message}`, bad: true });
      }
    }, 400);
    return () => clearTimeout(t);
  }, [draft, client]);

  // --- event data keys for the ref picker, from the latest event of the trigger --------------
  useEffect(() => {
    if (!draft.trigger) return;
    const t = setTimeout(() => {
      client
        .recentEvent(draft.trigger)
        .then((data) => data && setEventKeys([...new Set(['id', ...Object.keys(data)])]))
        .catch(() => {});
    }, 300);
    return () => clearTimeout(t);
  }, [draft.trigger, client]);

  // --- toolbar actions ------------------------------------------------------------------------
  const save = async () => {
    setStatus({ text: 'Saving…' });
    try {
      const res = await client.save(id, body(draft, enabled, version));
      setSaved(draft);
      setProblems(none);
      if (res && typeof res.version === 'number') setVersion(res.version);
      setStatus({ text: `Saved${res && res.version ? ` as version ${res.version}` : ''}.` });
      return true;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
        setProblems(fromError(err, draft.workflow));
        setStatus({ text: `Not saved: ${err.message}`, bad: true });
      } else if (err instanceof ApiError && err.status === 409) {
        setStatus({ text: `Not saved: ${err.message}. Someone saved a newer version: export yours, reload, and merge.`, bad: true });
      } else setStatus({ text: `Not saved: ${(err as Error).message}`, bad: true });
      return false;
    }
  };
  const toggleEnabled = async (on: boolean) => {
    try {
      await client.setEnabled(id, on);
      setEnabled(on);
      setStatus({ text: on ? 'Enabled: new events start runs.' : 'Disabled: new events start no runs.' });
    } catch (err) {
      setStatus({ text: `Could not ${on ? 'enable' : 'disable'}: ${(err as Error).message}`, bad: true });
    }
  };
  const deleteWorkflow = async () => {
    if (!window.confirm(`Delete the workflow “${draft.name || 'Untitled workflow'}”? It starts no more runs; runs in flight finish on their version.`)) return;
    try {
      await client.deleteWorkflow(id);
      leaving.current = true; // nothing left to lose: do not ask again on leaving
      window.location.assign('/admin/workflows?done=workflow-deleted');
    } catch (err) {
      setStatus({ text: `Not deleted: ${(err as Error).message}`, bad: true });
    }
  };
  const relayout = () => {
    change((w) => M.withPositions(w, layout(w)));
    setTimeout(() => rf.fitView({ duration: 200 }), 50);
  };
  const importJSON = (text: string) => {
    try {
      const parsed = JSON.parse(text);
      const w = M.normalize(parsed && parsed.workflow && typeof parsed.workflow === 'object' && !Array.isArray(parsed.actions) ? parsed.workflow : parsed);
      change(() => w);
      setStatus({ text: `Imported ${w.actions.length} actions and ${w.edges.length} edges. Save to keep them.` });
      setTimeout(() => rf.fitView({ duration: 200 }), 50);
    } catch (err) {
      setStatus({ text: `Import failed: ${(err as Error).message}`, bad: true });
    }
  };
  const restore = (v: Version) => {
    if (!v.workflow) return;
    const w = M.normalize(v.workflow);
    changeDraft({
      workflow: w,
      ...(typeof v.trigger === 'string' ? withFirstTrigger(draft, v.trigger) : {}),
      ...(v.config && typeof v.config === 'object' && !Array.isArray(v.config) ? { config: v.config as M.JSONObject } : {}),
      ...(typeof v.name === 'string' ? { name: v.name } : {}),
      ...(typeof v.description === 'string' ? { description: v.description } : {}),
    });
    setStatus({ text: `Restored version ${v.version} into the editor. Save to make it the newest version.` });
  };
  const testRun = async (data: M.JSONObject) => {
    // A scheduled workflow is started by the scheduler's event naming it (engine/workflow).
    const cron = draft.trigger.startsWith(CRON_PREFIX);
    // blog-post.* events come only from the CMS (with the acting user): a test run of such a
    // workflow makes the post's change through its CMS route, which sends the event.
    const runs = cron
      ? await client.sendEvent(SCHEDULED_EVENT, { ...data, workflow_id: Number(id), tick: new Date().toISOString() })
      : draft.trigger.startsWith(POST_EVENT_PREFIX)
        ? await client.postAction(draft.trigger, data)
        : await client.sendEvent(draft.trigger, data);
    // The event may also start other workflows and functions: open this workflow's run.
    let mine: string | undefined;
    for (const r of runs) {
      const run = await client.req<{ workflow_id?: number | null }>('GET', `/runs/${encodeURIComponent(r)}`).catch(() => null);
      if (run && String(run.workflow_id) === String(id)) {
        mine = r;
        break;
      }
    }
    if (!mine) {
      throw new Error(
        `the event started ${runs.length} run(s), none of this workflow: is it enabled, with this trigger?`,
      );
    }
    window.location.assign(runsURL + encodeURIComponent(mine));
  };

  // --- side panel -----------------------------------------------------------------------------
  const selNode = nodes.find((n) => n.selected && n.type === 'action');
  const selAction = selNode ? draft.workflow.actions.find((a) => a.id === selNode.id) : undefined;
  const selEdgeIndex = selAction ? -1 : edges.findIndex((e) => selectedEdges.has(e.id));
  let panel;
  if (settingsOpen) {
    panel = (
      <SettingsPanel
        triggers={draft.triggers}
        config={draft.config}
        problems={problems.settings}
        events={events}
        onTriggers={(t) => changeDraft(withTriggers(t), 'settings-triggers')}
        onConfig={(c, merge) => changeDraft({ config: c }, `settings:${merge}`)}
        onClose={() => setSettingsOpen(false)}
      />
    );
  } else if (selAction) {
    panel = (
      <ActionPanel
        key={selAction.id}
        action={selAction}
        kind={kindMap.get(selAction.kind)}
        refs={R.forAction(draft.workflow, selAction.id, kindMap, eventKeys, draft.config.batchEvents !== undefined)}
        events={events}
        problems={problems.actions[selAction.id] ?? []}
        change={change}
        setInput={(name: string, v: JSONValue | undefined) => change((w) => M.setInput(w, selAction.id, name, v), `input:${selAction.id}:${name}`)}
        update={(fn, merge) => change((w) => M.updateAction(w, selAction.id, fn), merge)}
      />
    );
  } else if (selEdgeIndex >= 0) {
    const e = draft.workflow.edges[selEdgeIndex];
    panel = (
      <EdgePanel
        key={edges[selEdgeIndex].id}
        edge={e}
        refs={R.forEdge(draft.workflow, e.from, kindMap, eventKeys, draft.config.batchEvents !== undefined)}
        problems={problems.edges[selEdgeIndex] ?? []}
        update={(fn, merge) => change((w) => M.updateEdge(w, selEdgeIndex, fn), merge ? `${merge}:${selEdgeIndex}` : undefined)}
      />
    );
  } else {
    panel = (
      <WorkflowPanel
        name={draft.name}
        description={draft.description}
        concurrencyKey={draft.concurrencyKey}
        onName={(v) => changeDraft({ name: v }, 'wf-name')}
        onDescription={(v) => changeDraft({ description: v }, 'wf-description')}
        onConcurrencyKey={(v) => changeDraft({ concurrencyKey: v }, 'wf-concurrency')}
      />
    );
  }

  return (
    <div className="wf-editor" data-testid="workflow-editor" data-dirty={dirty ? 'true' : 'false'} data-undo-depth={hist.past.length}>
      <Toolbar
        client={client}
        id={id}
        draft={draft}
        version={version}
        enabled={enabled}
        dirty={dirty}
        canUndo={hist.past.length > 0}
        canRedo={hist.future.length > 0}
        events={events}
        eventKeys={eventKeys}
        onTrigger={(t) => changeDraft(withFirstTrigger(draft, t), 'trigger')}
        settingsOpen={settingsOpen}
        onSettings={() => setSettingsOpen((o) => !o)}
        onUndo={() => setHist(H.undo)}
        onRedo={() => setHist(H.redo)}
        onLayout={relayout}
        onSave={save}
        onEnabled={toggleEnabled}
        onImport={importJSON}
        onRestore={restore}
        onTestRun={testRun}
        onDelete={deleteWorkflow}
      />
      <div className="wf-body">
        <Palette kinds={kinds} onAdd={(k) => addKind(k)} />
        <div
          className="wf-canvas"
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'move';
            autoPan(e);
          }}
          onDrop={onDrop}
          data-testid="canvas"
        >
          <ReactFlow<EditorNode, FlowEdge>
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onDelete={onDelete}
            onNodeDragStop={savePositions}
            autoPanOnNodeDrag
            autoPanOnConnect
            isValidConnection={(c) => c.source !== c.target && c.target !== SOURCE}
            deleteKeyCode={['Backspace', 'Delete']}
            fitView
            fitViewOptions={{ maxZoom: 1 }}
            minZoom={0.2}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls />
            <MiniMap pannable zoomable nodeColor={minimapColor} />
          </ReactFlow>
          {problems.general.length > 0 && (
            <div className="wf-general-problems" data-testid="general-problems">
              {problems.general.map((p, i) => (
                <p key={i}>{p}</p>
              ))}
            </div>
          )}
        </div>
        <aside className="wf-side">{panel}</aside>
      </div>
      <footer className={`wf-status${status.bad ? ' wf-status-bad' : ''}`} data-testid="status" role="status">
        {status.text || (dirty ? 'Unsaved changes.' : 'All changes saved.')}
      </footer>
    </div>
  );
}

// deriveNodes builds canvas nodes for the draft, keeping each existing node's view state.
// Position: the saved one (metadata), else where it is on screen, else where it was last drawn
// (an undone delete), else the auto-layout's.
function deriveNodes(
  prev: EditorNode[],
  d: Draft,
  kinds: Map<string, ActionKind>,
  problems: Problems,
  selectNext: React.MutableRefObject<string | null>,
  lastSeen: Map<string, Position>,
): EditorNode[] {
  const old = new Map(prev.map((n) => [n.id, n]));
  for (const n of prev) lastSeen.set(n.id, n.position);
  const saved = M.positionsOf(d.workflow);
  let auto: Record<string, Position> | null = null;
  const pos = (id: string): Position => {
    if (saved[id]) return saved[id];
    const o = old.get(id);
    if (o) return o.position;
    const seen = lastSeen.get(id);
    if (seen) return seen;
    auto ??= layout(d.workflow);
    return auto[id] ?? { x: 0, y: 0 };
  };
  const pick = selectNext.current;
  selectNext.current = null;
  const sel = (id: string) => (pick ? id === pick : !!old.get(id)?.selected);
  const src = old.get(SOURCE);
  const out: EditorNode[] = [
    { ...(src ?? {}), id: SOURCE, type: 'source', position: pos(SOURCE), deletable: false, selected: sel(SOURCE), data: { trigger: d.trigger } },
  ];
  for (const a of d.workflow.actions) {
    const o = old.get(a.id);
    out.push({
      ...(o ?? {}),
      id: a.id,
      type: 'action',
      position: pos(a.id),
      selected: sel(a.id),
      data: { action: a, kind: kinds.get(a.kind), problems: problems.actions[a.id] ?? [] },
    } as EditorNode);
  }
  return out;
}

// withPreset gives a new edge drawn from an action the next unused edge preset of its kind
// (builtin:if offers "True" and "False" edges), so branching kinds get their conditions.
function withPreset(next: Workflow, prev: Workflow, from: string, kinds: Map<string, ActionKind>): Workflow {
  if (next === prev) return next;
  const a = prev.actions.find((x) => x.id === from);
  const presets = (a && kinds.get(a.kind)?.edges) || [];
  const used = new Set(prev.edges.filter((e) => e.from === from).map((e) => e.name));
  const p = presets.find((x) => !used.has(x.name));
  if (!p) return next;
  return M.updateEdge(next, next.edges.length - 1, (e) => ({ ...e, name: p.name, ...(p.conditional ? { conditional: p.conditional } : {}) }));
}

function currentPositions(ns: EditorNode[]): Record<string, Position> {
  return Object.fromEntries(ns.map((n) => [n.id, n.position]));
}

function minimapColor(n: EditorNode): string {
  if (n.type === 'source') return '#a4bcfd';
  return n.data.problems.length ? '#f97066' : '#d0d5dd';
}

function conditionLabel(c: M.JSONObject): string {
  const ref = typeof c.ref === 'string' ? c.ref.replace(/^!ref\((.*)\)$/, '$1') : '';
  if (c.type === 'match') return `${ref} = ${JSON.stringify(c.value)}`;
  if (c.type === 'else') return `else ${ref}`;
  return `if ${ref}`;
}
