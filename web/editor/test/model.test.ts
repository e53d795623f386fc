import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as M from '../src/model';

const wf = (): M.Workflow =>
  M.normalize({
    name: 'w',
    metadata: { owner: 'me' },
    'x-extra': [1],
    actions: [
      { id: 'a', kind: 'log', inputs: { message: 'hi', weird: { k: [1] } }, ui: { c: 1 } },
      { id: 'b', kind: 'sleep' },
    ],
    edges: [
      { id: 'e1', from: '$source', to: 'a' },
      { from: 'a', to: 'b', conditional: { type: 'if', ref: '!ref($.output)', extra: true } },
    ],
  });

test('normalize keeps the object it was given and refuses what is not a workflow', () => {
  const raw = { actions: [], edges: [], other: 1 };
  assert.equal(M.normalize(raw), raw);
  assert.deepEqual(M.normalize({ name: 'x' }), { name: 'x', actions: [], edges: [] });
  for (const bad of [null, [], 'x', { actions: {} }, { actions: [{ kind: 'k' }] }, { edges: [{ from: 1, to: 'a' }] }]) {
    assert.throws(() => M.normalize(bad));
  }
});

test('setInput changes one input and keeps every other key and their order', () => {
  const w = wf();
  const next = M.setInput(w, 'a', 'message', 'bye');
  assert.deepEqual(next.actions[0], { id: 'a', kind: 'log', inputs: { message: 'bye', weird: { k: [1] } }, ui: { c: 1 } });
  assert.deepEqual(Object.keys(next.actions[0]), ['id', 'kind', 'inputs', 'ui']);
  assert.equal(next.actions[1], w.actions[1], 'untouched actions are the same objects');
  assert.equal(next.edges, w.edges);
  assert.equal(next['x-extra'], w['x-extra']);
  const removed = M.setInput(w, 'a', 'message', undefined);
  assert.deepEqual(removed.actions[0].inputs, { weird: { k: [1] } });
  const added = M.setInput(w, 'b', 'duration', '1h');
  assert.deepEqual(added.actions[1], { id: 'b', kind: 'sleep', inputs: { duration: '1h' } });
  assert.deepEqual(M.setInput(w, 'b', 'duration', undefined).actions[1], { id: 'b', kind: 'sleep' }, 'no empty inputs object appears');
});

test('connect adds an edge once and never into $source or a loop on itself', () => {
  const w = wf();
  assert.equal(M.connect(w, 'a', 'b'), w);
  assert.equal(M.connect(w, 'a', 'a'), w);
  assert.equal(M.connect(w, 'b', '$source'), w);
  assert.deepEqual(M.connect(w, 'b', 'a').edges.at(-1), { from: 'b', to: 'a' });
});

test('remove drops actions with every edge touching them, and edges by index', () => {
  const w = wf();
  assert.deepEqual(M.remove(w, new Set(['a']), new Set()).edges, []);
  const e = M.remove(w, new Set(), new Set([1]));
  assert.deepEqual(e.edges, [w.edges[0]]);
  assert.deepEqual(e.actions, w.actions);
  const placed = M.withPositions(w, { a: { x: 1, y: 2 }, b: { x: 3, y: 4 } });
  assert.deepEqual(M.positionsOf(M.remove(placed, new Set(['a']), new Set())), { b: { x: 3, y: 4 } });
  assert.equal(M.remove(w, new Set(['a']), new Set()).metadata, w.metadata, 'no positions: metadata untouched');
});

test('positions go to metadata.inkflow.positions, beside the metadata already there', () => {
  const w = wf();
  assert.deepEqual(M.positionsOf(w), {});
  const p = M.withPositions(w, { a: { x: 1.4, y: 2.6 }, gone: { x: 0, y: 0 }, $source: { x: 0, y: -100 } });
  assert.deepEqual(p.metadata, { owner: 'me', inkflow: { positions: { a: [1, 3], $source: [0, -100] } } });
  assert.deepEqual(M.positionsOf(p), { a: { x: 1, y: 3 }, $source: { x: 0, y: -100 } });
});

test('addAction picks a free id from the kind', () => {
  let w = wf();
  const first = M.addAction(w, 'builtin:if', {}, 'If');
  assert.equal(first.id, 'builtin_if_1');
  w = first.w;
  assert.equal(M.addAction(w, 'builtin:if', {}, 'If').id, 'builtin_if_2');
  assert.deepEqual(w.actions.at(-1), { id: 'builtin_if_1', kind: 'builtin:if', name: 'If' });
});

test('upstream lists ancestors nearest first, without $source', () => {
  const w = M.connect(M.connect(M.addAction(wf(), 'log', {}, 'c').w, 'b', 'log_1'), '$source', 'b');
  assert.deepEqual(M.upstream(w, 'log_1'), ['b', 'a']);
  assert.deepEqual(M.upstream(w, 'a'), []);
});

test('isRef accepts whole refs only', () => {
  assert.ok(M.isRef('!ref($.event.data.id)'));
  assert.ok(!M.isRef('Post !ref($.event.data.id)'));
  assert.ok(!M.isRef(42));
});

test('undeclaredInputs lists the inputs the kind does not declare, in order', () => {
  const kind = { inputs: [{ name: 'message' }, { name: 'level' }] };
  assert.deepEqual(M.undeclaredInputs({ id: 'a', kind: 'log', inputs: { message: 'm', colour: 'red', old: 1 } }, kind), ['colour', 'old']);
  assert.deepEqual(M.undeclaredInputs({ id: 'a', kind: 'log' }, kind), []);
  assert.deepEqual(M.undeclaredInputs({ id: 'a', kind: 'log', inputs: { level: 'warn' } }, kind), []);
});
