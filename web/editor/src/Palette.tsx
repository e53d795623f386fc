// The list of action kinds: searchable by name, kind and description; drag an entry onto the
// canvas, or press Enter / double-click to add it below the selection.
import { useMemo, useState } from 'react';
import type { ActionKind } from './api';

export const DND_TYPE = 'application/x-inkflow-kind';

export function Palette({ kinds, onAdd }: { kinds: ActionKind[]; onAdd: (kind: string) => void }) {
  const [q, setQ] = useState('');
  const shown = useMemo(() => {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    return kinds.filter((k) => {
      const hay = `${k.name} ${k.kind} ${k.description}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
  }, [kinds, q]);
  return (
    <aside className="wf-palette" data-testid="palette">
      <input
        type="search"
        placeholder="Search actions…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        data-testid="palette-search"
        aria-label="Search actions"
      />
      <ul>
        {shown.map((k) => (
          <li
            key={k.kind}
            draggable
            tabIndex={0}
            title="Drag onto the canvas, or double-click to add"
            data-testid={`palette-${k.kind}`}
            onDragStart={(e) => {
              e.dataTransfer.setData(DND_TYPE, k.kind);
              e.dataTransfer.effectAllowed = 'move';
            }}
            onDoubleClick={() => onAdd(k.kind)}
            onKeyDown={(e) => e.key === 'Enter' && onAdd(k.kind)}
          >
            <strong>{k.name}</strong>
            <code>{k.kind}</code>
            {k.description && <p>{k.description}</p>}
          </li>
        ))}
        {shown.length === 0 && <li className="wf-empty">No action matches “{q}”.</li>}
      </ul>
    </aside>
  );
}
