import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as H from '../src/history';
import { diff } from '../src/draft';
import { anchorOf, layout } from '../src/layout';
import { normalize } from '../src/model';

test('layout puts each action below all of its parents', () => {
  const w = normalize({
    actions: ['a', 'b', 'c', 'd'].map((id) => ({ id, kind: 'k' })),
    edges: [
      { from: '$source', to: 'a' },
      { from: 'a', to: 'b' },
      { from: 'a', to: 'c' },
      { from: 'b', to: 'd' },
      { from: 'c', to: 'd' },
    ],
  });
  const p = layout(w);
  assert.ok(p.$source.y < p.a.y && p.a.y < p.b.y && p.b.y === p.c.y && p.c.y < p.d.y);
  assert.notEqual(p.b.x, p.c.x);
});

test('layout survives a cycle and actions without edges', () => {
  const w = normalize({
    actions: ['a', 'b', 'lonely'].map((id) => ({ id, kind: 'k' })),
    edges: [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
    ],
  });
  const p = layout(w);
  assert.deepEqual(Object.keys(p).sort(), ['$source', 'a', 'b', 'lonely']);
});

test('history merges edits of one field into one undo step', () => {
  let h = H.start('');
  h = H.push(h, 'a', 'field');
  h = H.push(h, 'ab', 'field');
  h = H.push(h, 'ab!', null);
  assert.deepEqual(h.past, ['', 'ab']);
  h = H.undo(H.undo(h));
  assert.equal(h.present, '');
  h = H.redo(h);
  assert.equal(h.present, 'ab');
  assert.equal(H.push(h, 'x').future.length, 0, 'a new edit drops the redo stack');
});

test('diff names added, removed and changed actions and edges', () => {
  const a = normalize({ actions: [{ id: 'x', kind: 'k' }, { id: 'y', kind: 'k' }], edges: [{ from: '$source', to: 'x' }] });
  const b = normalize({ actions: [{ id: 'x', kind: 'k', name: 'n' }, { id: 'z', kind: 'k' }], edges: [{ from: '$source', to: 'z' }] });
  assert.deepEqual(diff(a, b), ['~ action x changed', '+ action z (k)', '− action y (k)', '+ edge $source → z', '− edge $source → x']);
});

test('anchorOf: the selected node, else the lowest action nothing follows, else the trigger', () => {
  const w = normalize({
    actions: [{ id: 'a', kind: 'log' }, { id: 'b', kind: 'log' }, { id: 'c', kind: 'log' }],
    edges: [{ from: '$source', to: 'a' }, { from: 'a', to: 'b' }, { from: 'a', to: 'c' }],
  });
  const at = (y: number) => ({ x: 0, y });
  const ns = [{ id: '$source', position: at(0) }, { id: 'a', position: at(100) }, { id: 'b', position: at(300) }, { id: 'c', position: at(200) }];
  assert.equal(anchorOf(w, ns), 'b');
  assert.equal(anchorOf(w, ns.map((n) => ({ ...n, selected: n.id === 'a' }))), 'a');
  assert.equal(anchorOf(w, ns.map((n) => ({ ...n, selected: n.id === '$source' }))), '$source');
  assert.equal(anchorOf(normalize({ actions: [], edges: [] }), [{ id: '$source', position: at(0) }]), '$source');
});
