import { test } from 'node:test';
import assert from 'node:assert/strict';
import { precisionAt, rocAt, unitGrid } from './curves.ts';

test('unitGrid: evenly spaced from 0 to 1', () => {
  assert.deepEqual(unitGrid(4), [0, 0.25, 0.5, 0.75, 1]);
  assert.throws(() => unitGrid(0), /positive integer/);
});

test('rocAt: linear between points, top of a vertical climb', () => {
  // (0,0) → (0,0.4) vertical, → (0.5,0.8), → (1,1)
  const roc = [
    { fpr: 0, tpr: 0, threshold: null },
    { fpr: 0, tpr: 0.4, threshold: 0.9 },
    { fpr: 0.5, tpr: 0.8, threshold: 0.5 },
    { fpr: 1, tpr: 1, threshold: 0 },
  ];
  const at = rocAt(roc, [0, 0.25, 0.5, 0.75, 1]);
  const expected = [0.4, 0.6, 0.8, 0.9, 1]; // 0.25: halfway 0.4→0.8; 0.75: halfway 0.8→1
  at.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `${i}: ${v}`));
  // Order of the input does not matter.
  assert.deepEqual(rocAt([...roc].reverse(), [0.25]), rocAt(roc, [0.25]));
  assert.throws(() => rocAt([], [0]), /no finite points/);
});

test('precisionAt: best precision at that recall or more; 0 beyond the curve', () => {
  const pr = [
    { recall: 0.1, precision: 0.9, threshold: 0.9 },
    { recall: 0.5, precision: 0.6, threshold: 0.5 },
    { recall: 0.6, precision: 0.7, threshold: 0.4 },
    { recall: 0.8, precision: 0.5, threshold: 0.2 },
  ];
  assert.deepEqual(precisionAt(pr, [0, 0.1, 0.3, 0.55, 0.8, 0.9]), [0.9, 0.9, 0.7, 0.7, 0.5, 0]);
});
