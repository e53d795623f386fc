import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ActionKind } from '../src/api';
import { groupKinds, OTHER } from '../src/Palette';

const kind = (k: string, name: string, category: string, description = ''): ActionKind => ({
  kind: k, name, category, description, inputs: [], outputs: [], edges: [],
});
const kinds = [
  kind('log', 'Log', 'Data', 'Write a line to the run'),
  kind('grammar_review', 'Grammar review', 'AI', 'Suggest fixes'),
  kind('sleep', 'Sleep', 'Flow'),
  kind('custom', 'Custom', ''),
  kind('add_ToC', 'Add a table of contents', 'AI'),
  kind('zz', 'Later', 'Zeta'),
];

test('groupKinds groups by category in the palette order, unknown categories next, Other last', () => {
  const groups = groupKinds(kinds, '');
  assert.deepEqual(groups.map((g) => g.category), ['Flow', 'AI', 'Data', 'Zeta', OTHER]);
  assert.deepEqual(groups[1].kinds.map((k) => k.kind), ['add_ToC', 'grammar_review'], 'by name within a group');
});

test('groupKinds keeps only kinds matching every word, in name, kind, category or description', () => {
  assert.deepEqual(groupKinds(kinds, 'fixes').map((g) => g.kinds.map((k) => k.kind)), [['grammar_review']]);
  assert.deepEqual(groupKinds(kinds, 'ai table').flatMap((g) => g.kinds.map((k) => k.kind)), ['add_ToC']);
  assert.deepEqual(groupKinds(kinds, 'LOG run').flatMap((g) => g.kinds.map((k) => k.kind)), ['log']);
  assert.deepEqual(groupKinds(kinds, 'nothing like this'), []);
});
