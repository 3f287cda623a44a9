import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogram, profileCategorical, profileNumeric, quantileEdges } from './profile.ts';

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
