// The list of action kinds, grouped by category (the kind's "category" from GET /api/actions)
// and searchable by name, kind, category and description. Drag an entry onto the canvas, or
// press Enter / double-click to add it below the selected node, connected to it; Enter in the
// search box adds the first match.
import { useMemo, useState } from 'react';
import type { ActionKind } from './api';

export const DND_TYPE = 'application/x-inkflow-kind';

// CATEGORY_ORDER is the palette's order; categories the server adds later come after these,
// and kinds without one last, under "Other".
export const CATEGORY_ORDER = ['Flow', 'AI', 'Review', 'Send and connect', 'Data', 'Reports'];
export const OTHER = 'Other';

export interface PaletteGroup {
  category: string;
  kinds: ActionKind[];
}

/** groupKinds filters kinds by the words of q (all must match) and groups them by category. */
export function groupKinds(kinds: ActionKind[], q: string): PaletteGroup[] {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const groups = new Map<string, ActionKind[]>();
  for (const k of kinds) {
    const category = k.category || OTHER;
    const hay = `${k.name} ${k.kind} ${category} ${k.description}`.toLowerCase();
    if (!words.every((w) => hay.includes(w))) continue;
    groups.set(category, [...(groups.get(category) ?? []), k]);
  }
  const rank = (c: string) => {
    const i = CATEGORY_ORDER.indexOf(c);
    return i >= 0 ? i : c === OTHER ? CATEGORY_ORDER.length + 1 : CATEGORY_ORDER.length;
  };
  return [...groups.entries()]
    .map(([category, ks]) => ({ category, kinds: ks.sort((a, b) => a.name.localeCompare(b.name)) }))
    .sort((a, b) => rank(a.category) - rank(b.category) || a.category.localeCompare(b.category));
}

export function Palette({ kinds, onAdd }: { kinds: ActionKind[]; onAdd: (kind: string) => void }) {
  const [q, setQ] = useState('');
  const groups = useMemo(() => groupKinds(kinds, q), [kinds, q]);
  const first = groups[0]?.kinds[0];
  return (
    <aside className="wf-palette" data-testid="palette">
      <input
        type="search"
        placeholder="Search actions…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && first) {
            e.preventDefault();
            onAdd(first.kind);
          }
        }}
        data-testid="palette-search"
        aria-label="Search actions"
        title="Enter adds the first match below the selected node"
      />
      <div className="wf-palette-list">
        {groups.map((g) => (
          <section key={g.category} className="wf-palette-group" data-testid={`palette-group-${g.category}`}>
            <h4>{g.category}</h4>
            <ul>
              {g.kinds.map((k) => (
                <li
                  key={k.kind}
                  draggable
                  tabIndex={0}
                  title={`${k.kind}${k.description ? ': ' + k.description : ''}\nDrag onto the canvas, or press Enter / double-click to add it below the selected node`}
                  data-testid={`palette-${k.kind}`}
                  onDragStart={(e) => {
                    e.dataTransfer.setData(DND_TYPE, k.kind);
                    e.dataTransfer.effectAllowed = 'move';
                  }}
                  onDoubleClick={() => onAdd(k.kind)}
                  onKeyDown={(e) => e.key === 'Enter' && onAdd(k.kind)}
                >
                  {k.name}
                </li>
              ))}
            </ul>
          </section>
        ))}
        {groups.length === 0 && <p className="wf-empty">No action matches “{q}”.</p>}
      </div>
    </aside>
  );
}
