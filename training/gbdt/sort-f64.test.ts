import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortF64 } from './sort-f64.ts';

test('sortF64 orders as TypedArray sort does, with negatives, ties, infinities and both zeros (as +0)', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const values = [0, -0, 1e-300, -1e-300, Infinity, -Infinity, 5e-324, -5e-324, 3.5, 3.5, -3.5];
  for (let i = 0; i < 5000; i++) values.push(i % 7 === 0 ? Math.round(rand() * 5) : rand() * 10 ** (i % 9));
  const a = Float64Array.from(values);
  const expected = Float64Array.from(values).sort();
  sortF64(a);
  assert.deepEqual(
    Array.from(a, (v) => (v === 0 ? 0 : v)),
    Array.from(expected, (v) => (v === 0 ? 0 : v)),
  );
  assert.ok(a.every((v) => !Object.is(v, -0)));
});

test('sortF64 sorts a subarray in place, leaving the rest of the buffer alone', () => {
  const all = Float64Array.from([9, 3, 1, 2, 9]);
  sortF64(all.subarray(1, 4));
  assert.deepEqual(Array.from(all), [9, 1, 2, 3, 9]);
});

test('sortF64 skips the passes where every key shares a digit, ending in either buffer', () => {
  for (const values of [
    [3, 1, 2],
    [3, 1, 2, -1, 1e10, 0.1],
    [1.5, 1.25, 1.75, 1],
    [2, 2, 2],
  ]) {
    const a = Float64Array.from(values);
    sortF64(a);
    assert.deepEqual(
      Array.from(a),
      [...values].sort((x, y) => x - y),
    );
  }
});

test('sortF64: values equal in their high word are ordered by the low word, by insertion when few and in full when many', () => {
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  // Few near-ties (insertion) among spread values; then every value within 2⁻²⁰ of 1 and of −1 (full passes).
  const few = Array.from({ length: 3000 }, (_, i) => (i % 100 === 0 ? 1 + rand() * 2 ** -40 : rand() * 8 - 4));
  const many = Array.from({ length: 3000 }, (_, i) => (i % 2 ? 1 : -1) * (1 + Math.floor(rand() * 1e6) * 2 ** -52));
  for (const values of [few, many]) {
    const a = Float64Array.from(values);
    sortF64(a);
    assert.deepEqual(Array.from(a), Array.from(Float64Array.from(values).sort()));
  }
});
