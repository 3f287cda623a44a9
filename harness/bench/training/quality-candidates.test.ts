import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestOnValidation, meanOutputs } from './quality-candidates.ts';

test('a blend is the element-wise mean of the outputs', () => {
  const got = meanOutputs([Float32Array.of(1, 2, 3), Float32Array.of(3, 2, 0)]);
  assert.deepEqual(Array.from(got), [2, 2, 1.5]);
});

test('the two best on validation follow the metric direction', () => {
  assert.deepEqual(bestOnValidation({ linear: 4.1, mlp: 4.0, gbdt: 3.9 }, 'rmse', 2), ['gbdt', 'mlp']);
  assert.deepEqual(bestOnValidation({ linear: 0.7, mlp: 0.9, gbdt: 0.8 }, 'macro_f1', 2), ['mlp', 'gbdt']);
});
