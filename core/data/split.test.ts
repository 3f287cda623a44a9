import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSplit, timeSplit, TEST, TRAIN, VALIDATION, fnv1a } from './split.ts';
import { makeTable, sliceRows } from './table.ts';

test('time split: the latest records are test, the ones before validation', () => {
  const times = Float64Array.from({ length: 100 }, (_, i) => 99 - i); // reverse order on purpose
  const a = timeSplit(times, 0.2, 0.1);
  for (let i = 0; i < 100; i++) {
    const t = times[i];
    assert.equal(a[i], t >= 90 ? TEST : t >= 70 ? VALIDATION : TRAIN, `t=${t}`);
  }
});

test('time split never puts one timestamp in two sets', () => {
  const times = Float64Array.from([1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
  const a = timeSplit(times, 0.2, 0.3);
  const setOf = new Map<number, Set<number>>();
  times.forEach((t, i) => (setOf.get(t) ?? setOf.set(t, new Set()).get(t)!).add(a[i]));
  for (const s of setOf.values()) assert.equal(s.size, 1);
});

test('hash split is stable when data grows and near the requested fractions', () => {
  const n = 20000;
  const table = makeTable({ id: { type: 'number', values: Float64Array.from({ length: n }, (_, i) => i) } });
  const all = hashSplit(table, ['id'], 0.15, 0.15, 42);
  const prefix = hashSplit(sliceRows(table, 0, 5000), ['id'], 0.15, 0.15, 42);
  assert.deepEqual(Array.from(prefix), Array.from(all.subarray(0, 5000)));
  const share = (k: number) => all.filter((x) => x === k).length / n;
  assert.ok(Math.abs(share(TEST) - 0.15) < 0.01, `test share ${share(TEST)}`);
  assert.ok(Math.abs(share(VALIDATION) - 0.15) < 0.01);
  const otherSeed = hashSplit(table, ['id'], 0.15, 0.15, 7);
  assert.notDeepEqual(Array.from(otherSeed), Array.from(all));
});

test('fnv1a is deterministic and seed-sensitive', () => {
  assert.equal(fnv1a('abc'), fnv1a('abc'));
  assert.notEqual(fnv1a('abc', 1), fnv1a('abc', 2));
});
