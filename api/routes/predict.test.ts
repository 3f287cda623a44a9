import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchResult } from '../batcher.ts';
import { batchAnswerJson, singleAnswerJson } from './predict.ts';

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

const fakeBatch = (
  task: 'classification' | 'regression',
  values: number[],
  failed: number[] = [],
  classes?: string[],
) =>
  ({
    model: { name: 'flight-"delay"', version: 12, bundle: { meta: { task, threshold: 0.3660394847393036 }, classes } },
    predictions: values,
    errors: values.map(() => []),
    failed,
  }) as unknown as BatchResult;

test('the batch answer text is exactly JSON.stringify of the answer object', () => {
  const values = [0, 0.3660394847393036, 0.9440531134605408, 1, 1e-7, 5e-324, 1 - 2 ** -53, -0];
  const ids = values.map((_, i) => `k2.AQEAAAAMAAABm3-xyz_-0${i}`);
  for (const task of ['classification', 'regression'] as const) {
    const scaled = task === 'regression' ? values.map((v) => v * 1e6 - 3) : values;
    assert.equal(
      batchAnswerJson(fakeBatch(task, scaled), ids),
      JSON.stringify({
        model_name: 'flight-"delay"',
        model_version: 12,
        prediction_ids: ids,
        predictions: scaled.map((v) =>
          task === 'regression'
            ? { value: v }
            : { probability: v, label: v >= 0.3660394847393036 ? 1 : 0, threshold: 0.3660394847393036 },
        ),
      }),
      task,
    );
  }
  assert.equal(
    batchAnswerJson(fakeBatch('classification', [0.5]), ['k2.x']),
    '{"model_name":"flight-\\"delay\\"","model_version":12,"prediction_ids":["k2.x"],"predictions":[{"probability":0.5,"label":1,"threshold":0.3660394847393036}]}',
  );
  // A failed row is answered with an error object in its slot, a multi-class one with every class: built as objects.
  assert.equal(batchAnswerJson(fakeBatch('classification', [0.5, 0.2], [1]), ['k2.x', null]), null);
  assert.equal(batchAnswerJson(fakeBatch('classification', [1], [], ['a', 'b']), ['k2.x']), null);
});
