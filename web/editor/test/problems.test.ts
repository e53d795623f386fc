import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../src/api';
import { normalize } from '../src/model';
import { fromError } from '../src/problems';

const w = normalize({
  actions: [
    { id: 'a', kind: 'log' },
    { id: 'b.c', kind: 'log' },
  ],
  edges: [
    { from: '$source', to: 'a' },
    { from: 'a', to: 'b.c' },
  ],
});

test('field keys the server writes land on their action or edge', () => {
  const p = fromError(
    new ApiError('many', 422, {
      'actions.a.inputs.message': 'action "a": input "message" is required',
      'actions.b.c': 'action "b.c" is disconnected',
      'actions[1].id': 'empty id',
      'edges[1].to': 'edge 1 leads to unknown action',
      edges: 'no entry edge',
      trigger: 'is required',
    }),
    w,
  );
  assert.deepEqual(p.actions.a, ['action "a": input "message" is required']);
  assert.deepEqual(p.actions['b.c'], ['action "b.c" is disconnected', 'empty id', 'edge 1 leads to unknown action']);
  assert.deepEqual(p.edges[1], ['edge 1 leads to unknown action']);
  assert.deepEqual(p.general, ['no entry edge', 'is required']);
});

test('a message without fields goes on the action it names, or stays general', () => {
  assert.deepEqual(fromError(new ApiError('action "a" has unknown kind', 422), w).actions.a, ['action "a" has unknown kind']);
  assert.deepEqual(fromError(new ApiError('bad JSON', 400), w).general, ['bad JSON']);
});
