import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { selectBackend } from './tfjs-backend.ts';
import { buildModel, layoutOf, setLearningRate, toInputs, type CandidateConfig } from './network.ts';
import type { EncodedFeatures } from './features.ts';

function encoded(n: number): EncodedFeatures {
  return {
    rows: n,
    numeric: Float32Array.from({ length: n * 2 }, (_, i) => Math.sin(i) * 2),
    numericNames: ['a', 'b'],
    categorical: [{ name: 'origin', cardinality: 5, indices: Int32Array.from({ length: n }, (_, i) => i % 5) }],
    oov: {},
    missing: {},
  };
}

const cfg: CandidateConfig = { name: 'mlp', model: 'mlp', learning_rate: 0.05, hidden: [4], embedding_dim: 2 };

async function fitOnce(tf: typeof tfjs, model: tfjs.LayersModel, enc: EncodedFeatures): Promise<number[][]> {
  const x = toInputs(tf, enc);
  const y = tf.tensor2d(
    Float32Array.from({ length: enc.rows }, (_, i) => i % 2),
    [enc.rows, 1],
  );
  await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, shuffle: false });
  tf.dispose([...x, y]);
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

test('the optimizer starts at the candidate’s learning rate and setLearningRate changes it for the next steps', async () => {
  const { tf } = await selectBackend({});
  const model = buildModel(tf, layoutOf(encoded(8)), cfg, 'classification', 1);
  assert.equal(model.optimizer.getConfig().learningRate, 0.05);
  setLearningRate(model, 0.0125);
  assert.equal(model.optimizer.getConfig().learningRate, 0.0125);
  model.dispose();
});

test('buildModel’s Adam trains exactly as tf.train.adam with the same rate, and a changed rate changes the steps', async () => {
  const { tf } = await selectBackend({});
  const enc = encoded(64);
  const ours = buildModel(tf, layoutOf(enc), cfg, 'classification', 7);
  const reference = buildModel(tf, layoutOf(enc), cfg, 'classification', 7);
  reference.compile({ optimizer: tf.train.adam(cfg.learning_rate), loss: 'binaryCrossentropy' });
  const slower = buildModel(tf, layoutOf(enc), cfg, 'classification', 7);
  setLearningRate(slower, cfg.learning_rate / 2);
  const [a, b, c] = [await fitOnce(tf, ours, enc), await fitOnce(tf, reference, enc), await fitOnce(tf, slower, enc)];
  assert.deepEqual(a, b, 'bit-identical weights');
  assert.notDeepEqual(c, a);
  // A model compiled elsewhere has no rate this module owns.
  assert.throws(() => setLearningRate(reference, 0.01), /compiled by buildModel/);
  [ours, reference, slower].forEach((m) => m.dispose());
});
