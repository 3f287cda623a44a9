import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import { buildModel, layoutOf, predict, toInputs, type CandidateConfig } from '../core/model/network.ts';
import type { EncodedFeatures } from '../core/model/features.ts';
import { seededRandom } from '../core/platform/random.ts';
import { EmbeddingTrainer } from './embedding-trainer.ts';
import { lossKindOf } from './batch-loss.ts';

function encoded(n: number, seed: number): EncodedFeatures {
  const r = seededRandom(seed);
  const cat = (name: string, cardinality: number) => ({
    name,
    cardinality,
    indices: Int32Array.from({ length: n }, () => Math.floor(r() * cardinality)),
  });
  return {
    rows: n,
    numeric: Float32Array.from({ length: n * 2 }, () => r() * 4 - 2),
    numericNames: ['a', 'b'],
    categorical: [cat('origin', 5), cat('route', 9)],
    oov: {},
    missing: {},
  };
}

type Task = 'classification' | 'regression';

/** tfjs's own gradients of the compiled loss (plus the L2 penalty) for every trainable layer of `model`. */
function tfjsGradients(
  tf: typeof tfjs,
  model: tfjs.LayersModel,
  enc: EncodedFeatures,
  y: Float32Array,
  o: { task: Task; classes: number; l2: number; weight?: (label: number) => number },
): Record<string, Float32Array[]> {
  const layers = model.layers.filter((l) => l.trainableWeights.length > 0);
  const vars = layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tfjs.Variable));
  const { grads } = tf.variableGrads(() => {
    const out = model.apply(toInputs(tf, enc), { training: true }) as tfjs.Tensor;
    const perRow =
      o.classes > 1
        ? tf.metrics.categoricalCrossentropy(tf.oneHot(tf.tensor1d(Int32Array.from(y), 'int32'), o.classes), out)
        : o.task === 'classification'
          ? tf.metrics.binaryCrossentropy(tf.tensor2d(y, [y.length, 1]), out)
          : tf.metrics.meanSquaredError(tf.tensor2d(y, [y.length, 1]), out);
    const weights = tf.tensor1d(Float32Array.from(y, (v) => o.weight?.(v) ?? 1));
    let loss = tf.mean<tfjs.Scalar>(tf.mul(perRow, weights));
    for (const l of layers)
      if (l.name.startsWith('hidden_') || l.name === 'output')
        loss = tf.add(loss, tf.mul(o.l2, tf.sum(tf.square(l.trainableWeights[0].read()))));
    return loss;
  }, vars);
  return Object.fromEntries(
    layers.map((l) => [
      l.name,
      l.trainableWeights.map((w) => Float32Array.from(grads[(w.read() as tfjs.Variable).name].dataSync())),
    ]),
  );
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  const scale = Math.max(1e-3, ...expected.map(Math.abs));
  for (let i = 0; i < actual.length; i++)
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= 2e-4 * scale,
      `${what}[${i}]: ${actual[i]} vs tfjs ${expected[i]} (scale ${scale})`,
    );
}

const cases: { title: string; cfg: CandidateConfig; task: Task; classes: number; weighted?: boolean }[] = [
  {
    title: 'wide & deep, two hidden layers, binary, class weights',
    cfg: { name: 'wd', model: 'mlp', wide: true, learning_rate: 0.01, hidden: [6, 4], embedding_dim: 3 },
    task: 'classification',
    classes: 1,
    weighted: true,
  },
  {
    title: 'three hidden layers, L2, regression',
    cfg: { name: 'deep', model: 'mlp', learning_rate: 0.01, hidden: [5, 4, 3], embedding_dim: 2, l2: 0.01 },
    task: 'regression',
    classes: 1,
  },
  {
    title: 'one hidden layer, wide, three classes',
    cfg: { name: 'mc', model: 'mlp', wide: true, learning_rate: 0.01, hidden: [4], embedding_dim: 2 },
    task: 'classification',
    classes: 3,
  },
  {
    title: 'logistic regression',
    cfg: { name: 'lr', model: 'logistic', learning_rate: 0.01 },
    task: 'classification',
    classes: 1,
  },
];

for (const c of cases)
  test(`the trainer's gradients equal tfjs autodiff of the same model: ${c.title}`, async () => {
    const { tf } = await selectBackend({});
    const enc = encoded(48, 3);
    const r = seededRandom(5);
    const y = Float32Array.from({ length: enc.rows }, () =>
      c.classes > 1 ? Math.floor(r() * c.classes) : c.task === 'regression' ? r() * 3 - 1 : r() < 0.3 ? 1 : 0,
    );
    const model = buildModel(tf, layoutOf(enc), c.cfg, c.task, 11, c.classes);
    const weight = c.weighted ? (label: number) => (label === 1 ? 2.5 : 0.7) : undefined;
    const expected = tfjsGradients(tf, model, enc, y, { task: c.task, classes: c.classes, l2: c.cfg.l2 ?? 0, weight });
    const trainer = new EmbeddingTrainer(tf, model, layoutOf(enc), c.cfg, lossKindOf(c.task, c.classes));
    const all = Int32Array.from({ length: enc.rows }, (_, i) => i);
    const { byLayer } = trainer.gradients(enc, y, all, weight);
    assert.deepEqual(Object.keys(byLayer).sort(), Object.keys(expected).sort());
    for (const [name, grads] of Object.entries(expected))
      grads.forEach((g, i) => assertClose(byLayer[name][i], g, `${name} weight ${i}`));
    model.dispose();
  });

test('training moves only the table rows a batch reached, writes back into the layers, and predicts as the model does', async () => {
  const { tf } = await selectBackend({});
  const enc = encoded(200, 9);
  const y = Float32Array.from({ length: enc.rows }, (_, i) => (enc.numeric[i * 2] > 0 ? 1 : 0));
  const cfg = cases[0].cfg;
  const model = buildModel(tf, layoutOf(enc), cfg, 'classification', 4);
  const trainer = new EmbeddingTrainer(tf, model, layoutOf(enc), cfg, 'binary');
  const before = model.getLayer('emb_cat_route').getWeights()[0].arraySync() as number[][];
  // Rows whose route is 0 or 1 only: every other route's embedding and wide weight stays put.
  const rows = Int32Array.from(
    Array.from({ length: enc.rows }, (_, i) => i).filter((i) => enc.categorical[1].indices[i] < 2),
  );
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) trainer.step(enc, y, rows);
  assert.equal(tf.memory().numTensors, tensors, 'no tensor outlives a step');
  trainer.writeTo(model);
  const after = model.getLayer('emb_cat_route').getWeights()[0].arraySync() as number[][];
  assert.notDeepEqual(after[0], before[0]);
  assert.deepEqual(after.slice(2), before.slice(2));
  assertClose(trainer.predict(enc), predict(tf, model, enc), 'predictions');
  model.dispose();
});

test('an epoch lowers the loss and the best-epoch snapshot restores exactly', async () => {
  const { tf } = await selectBackend({});
  const enc = encoded(400, 2);
  const y = Float32Array.from({ length: enc.rows }, (_, i) => (enc.categorical[0].indices[i] < 2 ? 1 : 0));
  const cfg: CandidateConfig = { ...cases[0].cfg, learning_rate: 0.05 };
  const model = buildModel(tf, layoutOf(enc), cfg, 'classification', 4);
  const trainer = new EmbeddingTrainer(tf, model, layoutOf(enc), cfg, 'binary');
  const random = seededRandom(1);
  const first = trainer.epoch(enc, y, { batchSize: 64, random });
  const saved = trainer.snapshot();
  const p = trainer.predict(enc);
  let last = first;
  for (let e = 0; e < 10; e++) last = trainer.epoch(enc, y, { batchSize: 64, random });
  assert.ok(last < first * 0.5, `loss ${first} → ${last}`);
  trainer.restore(saved);
  assert.deepEqual(trainer.predict(enc), p);
  model.dispose();
});
