import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_THRESHOLD, decisionThreshold, labelAt } from './decision.ts';
import { confusion } from './quality-metrics.ts';

test('decisionThreshold: the bundle’s own threshold (0 included), else 0.5', () => {
  assert.equal(DEFAULT_THRESHOLD, 0.5);
  assert.equal(decisionThreshold({}), 0.5);
  assert.equal(decisionThreshold({ threshold: undefined }), 0.5);
  assert.equal(decisionThreshold({ threshold: 0.3660394847393036 }), 0.3660394847393036);
  assert.equal(decisionThreshold({ threshold: 0 }), 0, 'a recorded 0 is a threshold, not a missing one');
});

test('labelAt: 1 at exactly the threshold and above, 0 below and for NaN', () => {
  const t = 0.3660394847393036;
  assert.equal(labelAt(t, t), 1);
  assert.equal(labelAt(Math.fround(0.5), 0.5), 1);
  assert.equal(labelAt(1, t), 1);
  assert.equal(labelAt(t - Number.EPSILON, t), 0);
  assert.equal(labelAt(0, t), 0);
  assert.equal(labelAt(NaN, t), 0);
  assert.equal(labelAt(0, 0), 1, 'threshold 0 labels everything 1');
});

test('confusion counts a probability at exactly the threshold as a predicted positive (the same rule)', () => {
  // y 1 0 1 0, p at / at / below / above the threshold 0.4
  assert.deepEqual(confusion([1, 0, 1, 0], [0.4, 0.4, 0.39, 0.41], 0.4), { tp: 1, fp: 2, tn: 0, fn: 1 });
});
