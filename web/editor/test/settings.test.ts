import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../src/api';
import { body, configAt, fromRecord, setConfig, withFirstTrigger } from '../src/draft';
import { normalize } from '../src/model';
import { fromError } from '../src/problems';

test('setConfig sets a path and drops what is left empty', () => {
  let c = setConfig({}, ['debounce', 'period'], '30s');
  c = setConfig(c, ['concurrency', 0, 'limit'], 2);
  assert.deepEqual(c, { debounce: { period: '30s' }, concurrency: [{ limit: 2 }] });
  assert.equal(configAt(c, ['concurrency', 0, 'limit']), 2);
  c = setConfig(c, ['debounce', 'period'], '');
  c = setConfig(c, ['concurrency', 0, 'limit'], Number.NaN);
  assert.deepEqual(c, {});
});

test('a record with several triggers and a config round-trips through the draft', () => {
  const rec = {
    id: 1, name: 'n', description: '', enabled: false, workflow: { actions: [], edges: [] },
    trigger: 'shop/order.paid',
    triggers: [{ event: 'shop/order.paid', if: 'event.data.total > 100' }, { cron: '0 4 * * *' }],
    config: { retries: 2 },
  };
  const d = fromRecord(rec, normalize(rec.workflow));
  assert.equal(d.trigger, 'shop/order.paid');
  const b = body(d, false) as Record<string, unknown>;
  assert.deepEqual(b.triggers, rec.triggers);
  assert.deepEqual(b.config, { retries: 2 });
  assert.equal('trigger' in b, false, 'the body sends triggers, never both');
  // The toolbar edits the first trigger and keeps its condition and the others.
  const p = withFirstTrigger(d, 'shop/order.refunded');
  assert.deepEqual(p.triggers, [{ event: 'shop/order.refunded', if: 'event.data.total > 100' }, { cron: '0 4 * * *' }]);
  assert.deepEqual(withFirstTrigger({ ...d, triggers: [] }, '').triggers, []);
});

test('settings fields go to the Settings panel, named as the server names them', () => {
  const w = normalize({ actions: [], edges: [] });
  const p = fromError(new ApiError('x', 422, { 'config.debounce.period': 'bad', 'triggers[1].if': 'worse' }), w);
  assert.deepEqual(p.settings, { 'config.debounce.period': 'bad', 'triggers[1].if': 'worse' });
  assert.equal(p.general.length, 2);
});
