import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recurringKeys } from './cross-recurrence.ts';

const day = (d: number, h = 0) => Date.UTC(2001, 0, d, h);

test('a key is kept when it occurs on at least min_days distinct UTC days', () => {
  // key 1: Jan 1 (twice) and Jan 2 → 2 days; key 2: three times on Jan 3 → 1 day; key 3: Jan 1, 5, 9 → 3 days.
  const keys = [1, 1, 1, 2, 2, 2, 3, 3, 3];
  const times = [day(1, 8), day(1, 20), day(2, 8), day(3, 1), day(3, 2), day(3, 23), day(1), day(5), day(9)];
  assert.deepEqual([...recurringKeys(keys, times, 2)].sort(), [1, 3]);
  assert.deepEqual([...recurringKeys(keys, times, 3)], [3]);
  assert.deepEqual([...recurringKeys(keys, times, 1)].sort(), [1, 2, 3]);
});

test('rows without a key or a time count for no day; out-of-order rows count once per day', () => {
  const keys = [-1, 4, 4, 4, 4];
  const times = [day(1), NaN, day(2), day(3), day(2)];
  assert.deepEqual([...recurringKeys(keys, times, 2)], [4]);
  assert.deepEqual([...recurringKeys(keys, times, 3)], []);
  assert.throws(() => recurringKeys([1], [], 1), /1 keys but 0 times/);
});

test('through the feature spec: route × minute of day keeps only the flights seen on min_days distinct days', async () => {
  const { fitFeatureSpec, encodeFeatures } = await import('./features.ts');
  const { makeTable } = await import('../data/table.ts');
  // ATL 14:35 flies on Jan 1 and Jan 2; ORD 09:10 flies twice on Jan 3 only; ATL 14:36 once.
  const times = [Date.UTC(2001, 0, 1, 14, 35), Date.UTC(2001, 0, 2, 14, 35), Date.UTC(2001, 0, 3, 9, 10)];
  const table = makeTable({
    date: { type: 'timestamp', values: Float64Array.from([...times, times[2], Date.UTC(2001, 0, 4, 14, 36)]) },
    origin: { type: 'string', codes: Int32Array.from([0, 0, 1, 1, 0]), dict: ['ATL', 'ORD'] },
    delay: { type: 'number', values: Float64Array.from([0, 30, 0, 0, 0]) },
  });
  const params = {
    data: { time_column: 'date' },
    task: { type: 'classification', target: 'delay', positive_above: 15 },
    features: {
      date: { kind: 'datetime', parts: ['minute_of_day'], min_cycles: 0 },
      origin: { kind: 'categorical', min_frequency: 1, max_categories: 10 },
      flight: {
        kind: 'cross',
        columns: ['origin', 'date.minute_of_day'],
        min_frequency: 2,
        max_categories: 10,
        min_days: 2,
      },
    },
  } as unknown as Parameters<typeof fitFeatureSpec>[1];
  const spec = fitFeatureSpec(table, params);
  const flight = spec.features.find((f) => f.name === 'flight');
  // 14:35 = minute 875; ORD|550 has two rows but one day; ATL|876 one row.
  assert.deepEqual(flight?.kind === 'cross' && [flight.vocabulary, flight.min_days], [['<OOV>', 'ATL|875'], 2]);
  const enc = encodeFeatures(spec, table);
  assert.deepEqual(
    Array.from(enc.categorical.find((c) => c.name === 'date.minute_of_day')!.indices),
    [875, 875, 550, 550, 876],
  );
  assert.deepEqual(Array.from(enc.categorical.find((c) => c.name === 'flight')!.indices), [1, 1, 0, 0, 0]);
  const noRule = fitFeatureSpec(table, {
    ...params,
    features: { ...params.features, flight: { ...params.features.flight, min_days: undefined } },
  } as typeof params);
  const loose = noRule.features.find((f) => f.name === 'flight');
  assert.deepEqual(loose?.kind === 'cross' && [loose.vocabulary, loose.min_days], [
    ['<OOV>', 'ATL|875', 'ORD|550'],
    undefined,
  ]);
});
