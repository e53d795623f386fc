// Entry point: mounts the editor on #workflow-editor. The page (templates/workflow_editor.templ)
// passes what the editor needs as data attributes:
//   data-workflow-id, data-api ("/api"), data-runs-url ("/admin/runs/"),
//   data-csrf-header ("X-CSRF-Token"), data-csrf-token.
import '@xyflow/react/dist/style.css';
import './editor.css';
import { ReactFlowProvider } from '@xyflow/react';
import { createRoot } from 'react-dom/client';
import { Client } from './api';
import { Editor } from './Editor';

// Blog events (DESIGN.md, "Posts"); events seen recently are added from the API.
const KNOWN_EVENTS = [
  'blog-post.created',
  'blog-post.updated',
  'blog-post.published',
  'blog-post.unpublished',
  'blog-post.approve-ai-suggestions',
  'blog-post.reject-ai-suggestions',
];

async function boot(el: HTMLElement) {
  const d = el.dataset;
  const meta = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]');
  const client = new Client({
    api: d.api || '/api',
    csrfHeader: d.csrfHeader || 'X-CSRF-Token',
    csrfToken: d.csrfToken || meta?.content || '',
  });
  const id = d.workflowId || '';
  try {
    const [record, kinds, recent] = await Promise.all([
      client.workflow(id),
      client.actions(),
      client.req<any>('GET', '/events?limit=100').catch(() => null),
    ]);
    const names = new Set(KNOWN_EVENTS);
    for (const ev of recent?.events ?? []) if (typeof ev?.name === 'string') names.add(ev.name);
    el.textContent = '';
    createRoot(el).render(
      <ReactFlowProvider>
        <Editor client={client} id={id} record={record} kinds={kinds} events={[...names].sort()} runsURL={d.runsUrl || '/admin/runs/'} />
      </ReactFlowProvider>,
    );
  } catch (err) {
    el.textContent = `The editor could not load: ${(err as Error).message}`;
    el.classList.add('wf-load-error');
  }
}

const el = document.getElementById('workflow-editor');
if (el) boot(el);
