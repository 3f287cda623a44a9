import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchResult } from '../batcher.ts';
import { singleAnswerJson } from './predict.ts';

const fake = (task: 'classification' | 'regression', v: number, classes?: string[]) =>
  ({
    model: { name: 'flight-"delay"', version: 12, bundle: { meta: { task, threshold: 0.3660394847393036 }, classes } },
    predictions: [v],
    errors: [[]],
    failed: [],
  }) as unknown as BatchResult;

test('the one-record answer text is exactly JSON.stringify of the answer object', () => {
  const id = 'k2.AQEAAAAMAAABm3-xyz_-09';
  for (const v of [0, 0.3660394847393036, 0.9440531134605408, 1, 1e-7, 5e-324, 1 - 2 ** -53, 123.456, -0]) {
    const cls = fake('classification', v);
    assert.equal(
      singleAnswerJson(cls, id),
      JSON.stringify({
        model_name: 'flight-"delay"',
        model_version: 12,
        prediction_id: id,
        prediction: { probability: v, label: v >= 0.3660394847393036 ? 1 : 0, threshold: 0.3660394847393036 },
      }),
      `classification ${v}`,
    );
    assert.equal(
      singleAnswerJson(fake('regression', v * 1e6), id),
      JSON.stringify({
        model_name: 'flight-"delay"',
        model_version: 12,
        prediction_id: id,
        prediction: { value: v * 1e6 },
      }),
      `regression ${v * 1e6}`,
    );
  }
  assert.equal(singleAnswerJson(fake('classification', 1, ['a', 'b']), id), null, 'multi-class: built as an object');
});
