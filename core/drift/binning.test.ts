import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogram, profileCategorical, profileNumeric } from '../model/profile.ts';
import { addNumeric, binAgainst, categoricalVectors, numericVectors, OTHER_BUCKET, UNSEEN_BUCKET } from './binning.ts';

const numeric = profileNumeric({ type: 'number', values: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) }, 3);

test('numeric values bin like the reference histogram, with out-of-range and missing counted apart', () => {
  const values = [1, 5, 10, 10, 0, -3, 11, NaN, null, undefined, 4];
  const w = binAgainst(numeric, values);
  const inRange = values.filter((v): v is number => typeof v === 'number' && v >= 1 && v <= 10);
  assert.deepEqual(w.counts, histogram(inRange, numeric.histogram.edges)); // same rule as the profile (last bin closed)
  assert.equal(w.below, 2);
  assert.equal(w.below_sum, -3);
  assert.equal(w.above, 1);
  assert.equal(w.above_sum, 11);
  assert.equal(w.missing, 3);
  assert.equal(w.n, values.length);
  // The reference binned against itself reproduces its own histogram.
  assert.deepEqual(binAgainst(numeric, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).counts, numeric.histogram.counts);
});

test('numeric vectors are [below, bins…, above]; incremental adds match batch binning', () => {
  const w = binAgainst(numeric, [0, 2, 12]);
  assert.deepEqual(numericVectors(numeric, w), {
    reference: [0, ...numeric.histogram.counts, 0],
    current: [1, ...w.counts, 1],
  });
  const incremental = { counts: [0, 0, 0], below: 0, above: 0, missing: 0 };
  for (const v of [0, 2, 12, NaN]) addNumeric(incremental, numeric.histogram.edges, v);
  assert.deepEqual(incremental.counts, w.counts);
  assert.equal(incremental.missing, 1, 'a NaN is missing, not binned');
  assert.throws(
    () => numericVectors(numeric, { counts: [1, 2], below: 0, above: 0, missing: 0 }),
    /2 bins but the reference histogram has 3/,
  );
  assert.throws(() => binAgainst(numeric, ['7'] as unknown as number[]), /string "7"/);
});

test('categories: a fully listed reference marks new values unseen; a pooled one sends them to "other"', () => {
  const full = profileCategorical({ type: 'string', codes: Int32Array.from([0, 0, 1, 2]), dict: ['a', 'b', 'c'] }, 10);
  const w = binAgainst(full, ['a', 'z', 'z', null, 'b']);
  assert.equal(w.unseen, 2);
  assert.equal(w.missing, 1);
  assert.deepEqual(categoricalVectors(full, w), {
    labels: ['a', 'b', 'c', OTHER_BUCKET, UNSEEN_BUCKET],
    reference: [2, 1, 1, 0, 0],
    current: [1, 1, 0, 0, 2],
    unseen: 2,
  });

  const pooled = profileCategorical({ type: 'string', codes: Int32Array.from([0, 0, 1, 2]), dict: ['a', 'b', 'c'] }, 1);
  const v = categoricalVectors(pooled, { counts: { a: 3, c: 1, z: 2 }, unseen: 4, missing: 0 });
  assert.deepEqual(v, {
    labels: ['a', OTHER_BUCKET, UNSEEN_BUCKET],
    reference: [2, 2, 0],
    current: [3, 3, 4],
    unseen: 4,
  });
  // Maps and records are the same window.
  assert.deepEqual(
    categoricalVectors(pooled, {
      counts: new Map([
        ['a', 3],
        ['c', 1],
        ['z', 2],
      ]),
      unseen: 4,
      missing: 0,
    }),
    v,
  );
  assert.throws(() => categoricalVectors(pooled, { counts: { a: -1 }, unseen: 0, missing: 0 }), /non-negative/);
});

test('numeric datetime parts profiled as categories match number values by their string form', () => {
  const hours = profileCategorical({ type: 'number', values: Float64Array.from([7, 7, 8]) }, 50);
  assert.deepEqual(binAgainst(hours, [7, 8, 9, NaN]), {
    counts: new Map([
      ['7', 1],
      ['8', 1],
    ]),
    unseen: 1,
    missing: 1,
    n: 4,
  });
});

test('values on the edges bin as the profile histogram does (one lookup, core/model/profile.ts histogramBin)', () => {
  const edges = numeric.histogram.edges; // 1, 4, 7, 10: bins [1, 4), [4, 7), [7, 10]
  assert.deepEqual(edges, [1, 4, 7, 10]);
  const w = binAgainst(numeric, [1, 4, 7, 10, 3.999, 6.999]);
  assert.deepEqual(w.counts, [2, 2, 2]);
  assert.deepEqual(w.counts, histogram([1, 4, 7, 10, 3.999, 6.999], edges));
  assert.equal(w.below + w.above, 0);
});
