import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  histogram,
  histogramBin,
  histogramBinCount,
  profileCategorical,
  profileNumeric,
  quantileEdges,
} from './profile.ts';

test('quantile edges collapse ties and histogram counts sum to the finite values', () => {
  const values = Float64Array.from([1, 1, 1, 1, 2, 3, 4, 5, 6, 7]);
  const edges = quantileEdges(Float64Array.from(values).sort(), 4);
  // numpy-style quantiles of the 10 sorted values: q.25 → 1 (tie with q0, dropped), q.5 → 2.5, q.75 → 4.75, q1 → 7
  assert.deepEqual(edges, [1, 2.5, 4.75, 7]);
  const counts = histogram([...values, NaN, -5, 100], edges);
  // [1,2.5): 1,1,1,1,2 and the clamped -5; [2.5,4.75): 3,4; [4.75,7]: 5,6,7 and the clamped 100
  assert.deepEqual(counts, [6, 2, 4]);
});

test('numeric profile: mean, population std, missing, quantiles', () => {
  const p = profileNumeric({ type: 'number', values: Float64Array.from([2, 4, 4, 4, 5, 5, 7, 9, NaN]) }, 4);
  assert.equal(p.count, 8);
  assert.equal(p.missing, 1);
  assert.equal(p.mean, 5);
  assert.equal(p.std, 2); // the textbook example: population std of 2,4,4,4,5,5,7,9 is 2
  assert.equal(p.quantiles.find((q) => q.q === 0.5)!.value, 4.5);
});

test('categorical profile pools the tail into "other"', () => {
  const p = profileCategorical(
    { type: 'string', codes: Int32Array.from([0, 0, 0, 1, 1, 2, -1]), dict: ['a', 'b', 'c'] },
    2,
  );
  assert.deepEqual(p.top, [
    { value: 'a', count: 3 },
    { value: 'b', count: 2 },
  ]);
  assert.equal(p.other, 1);
  assert.equal(p.missing, 1);
  assert.equal(p.distinct, 3);
});

test('histogramBin: the last edge ≤ v picks the bin, the last bin is closed, ends clamp, NaN has none', () => {
  const edges = [1, 2.5, 4.75, 7]; // bins [1, 2.5), [2.5, 4.75), [4.75, 7]
  assert.equal(histogramBinCount(edges), 3);
  const cases: [number, number][] = [
    [1, 0], // on the first edge
    [2, 0],
    [2.5 - 1e-12, 0],
    [2.5, 1], // on an inner edge: the bin it opens
    [4.75, 2],
    [6.999, 2],
    [7, 2], // on the last edge: the last bin is closed
    [-5, 0], // below the first edge: clamped into the first bin
    [-Infinity, 0],
    [100, 2], // above the last edge: clamped into the last bin
    [Infinity, 2],
    [NaN, -1],
  ];
  for (const [v, bin] of cases) assert.equal(histogramBin(edges, v), bin, `v = ${v}`);
  // All-tied training values: two equal edges, one bin; no finite values: no edges, still one bin.
  assert.equal(histogramBinCount([3, 3]), 1);
  assert.deepEqual(
    [2, 3, 4].map((v) => histogramBin([3, 3], v)),
    [0, 0, 0],
  );
  assert.equal(histogramBinCount([]), 1);
  assert.equal(histogramBin([], 5), 0);
  assert.equal(histogramBin([], NaN), -1);
  // Two bins: the middle edge splits them.
  assert.deepEqual(
    [0, 0.4999, 0.5, 1].map((v) => histogramBin([0, 0.5, 1], v)),
    [0, 0, 1, 1],
  );
});
