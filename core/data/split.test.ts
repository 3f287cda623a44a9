import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSplit, SortedTimeCuts, splitByCuts, timeSplit, TEST, TRAIN, VALIDATION, fnv1a } from './split.ts';
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

/** A seeded LCG, so the cases below are the same on every run. */
function lcg(seed: number) {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 4294967296;
}

test('streamed time split over chunks equals the whole-table split, ties and chunk boundaries included', () => {
  const rand = lcg(7);
  for (let round = 0; round < 200; round++) {
    const n = 10 + Math.floor(rand() * 300);
    // Sorted times with long runs of one timestamp, so cuts often land inside a run; some end in NaN.
    let t = 0;
    const times = Float64Array.from({ length: n }, () => (t += rand() < 0.7 ? 0 : 1 + Math.floor(rand() * 3)));
    if (round % 5 === 0) for (let i = n - 1 - Math.floor(rand() * 5); i < n; i++) times[i] = NaN;
    const [vf, tf] = [rand() * 0.4, rand() * 0.4];
    const cuts = new SortedTimeCuts(n, vf, tf);
    const parts: [number, number][] = [];
    for (let at = 0; at < n; ) {
      const size = 1 + Math.floor(rand() * 40);
      parts.push([at, Math.min(n, at + size)]);
      assert.equal(cuts.add(times.subarray(at, Math.min(n, at + size))), true);
      at += size;
    }
    const streamed = new Uint8Array(n);
    for (const [from, to] of parts) streamed.set(splitByCuts(from, to - from, cuts.cuts()), from);
    assert.deepEqual(streamed, timeSplit(times, vf, tf), `round ${round}: n=${n} vf=${vf} tf=${tf}`);
  }
});

test('streamed time split says when the column is out of order', () => {
  const cuts = new SortedTimeCuts(6, 0.2, 0.2);
  assert.equal(cuts.add([1, 2, 3]), true);
  assert.equal(cuts.add([2, 4, 5]), false);
  assert.throws(() => cuts.cuts(), /not in time order/);
  assert.equal(new SortedTimeCuts(3, 0.2, 0.2).add([NaN, 1, 2]), false, 'a time after a missing one is out of order');
});
