import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { selectBackend } from './tfjs-backend.ts';
import { buildModel, inputName, layoutOf, OneHot, predict, type CandidateConfig } from './network.ts';
import { compileForward, forward } from './forward.ts';
import { applyCalibration } from './calibration.ts';
import type { EncodedFeatures } from './features.ts';

function encoded(n: number): EncodedFeatures {
  const numeric = Float32Array.from({ length: n * 2 }, (_, i) => Math.sin(i) * 2);
  return {
    rows: n,
    numeric,
    numericNames: ['a', 'b'],
    categorical: [
      { name: 'origin', cardinality: 5, indices: Int32Array.from({ length: n }, (_, i) => i % 5) },
      { name: 'date.hour', cardinality: 24, indices: Int32Array.from({ length: n }, (_, i) => (i * 7) % 24) },
      { name: 'origin×hour', cardinality: 40, indices: Int32Array.from({ length: n }, (_, i) => (i * 3) % 40) },
    ],
    oov: {},
    missing: {},
  };
}

async function fitted(tf: typeof tfjs, model: tfjs.LayersModel, enc: EncodedFeatures) {
  // Move the weights away from their initial values (zeros for embeddings) so every layer matters.
  const x = [
    tf.tensor2d(enc.numeric, [enc.rows, 2]),
    ...enc.categorical.map((c) => tf.tensor2d(c.indices, [enc.rows, 1], 'int32')),
  ];
  await model.fit(x, tf.randomUniform([enc.rows, 1], 0, 1, 'float32', 1).round(), {
    epochs: 3,
    batchSize: 32,
    verbose: 0,
    shuffle: false,
  });
  tf.dispose(x);
}

function maxDiff(a: Float32Array, b: Float32Array) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const configs: CandidateConfig[] = [
  { name: 'lr', model: 'logistic', learning_rate: 0.1 },
  { name: 'mlp', model: 'mlp', learning_rate: 0.1, hidden: [16, 8], embedding_dim: 3, dropout: 0.2 },
  { name: 'wide-deep', model: 'mlp', learning_rate: 0.1, hidden: [8], embedding_dim: 4, wide: true },
];
for (const cfg of configs) {
  for (const task of ['classification', 'regression'] as const) {
    test(`plain-JS forward pass matches tfjs for a ${cfg.name} ${task} model`, async () => {
      const { tf } = await selectBackend({});
      const enc = encoded(300);
      const model = buildModel(tf, layoutOf(enc), cfg, task, 3);
      await fitted(tf, model, enc);
      const viaTf = predict(tf, model, enc);
      const viaJs = forward(compileForward(model, layoutOf(enc).categorical, 2), enc);
      assert.ok(maxDiff(viaTf, viaJs) < 1e-5, `max difference ${maxDiff(viaTf, viaJs)}`);
      if (task === 'classification') {
        const cal = { method: 'platt' as const, a: 0.5, b: -1 };
        const calibrated = forward(compileForward(model, layoutOf(enc).categorical, 2, cal), enc);
        // Applied to the unrounded probability, so equal to calibrating the float32 output up to rounding.
        for (let i = 0; i < 300; i += 37) assert.ok(Math.abs(calibrated[i] - applyCalibration(cal, viaJs[i])) < 1e-6);
      } else
        assert.throws(
          () => compileForward(model, layoutOf(enc).categorical, 2, { method: 'platt', a: 1, b: 0 }),
          /linear \(regression\) output/,
        );
      model.dispose();
    });
  }
}

test('bundles from before embeddings were gathers (one-hot into dense / into output) compute the same', async () => {
  const { tf } = await selectBackend({});
  const enc = encoded(200);
  const layout = layoutOf(enc);
  for (const kind of ['logistic', 'mlp'] as const) {
    const inputs: tfjs.SymbolicTensor[] = [tf.input({ shape: [2], name: 'numeric' })];
    const parts: tfjs.SymbolicTensor[] = [inputs[0]];
    for (const c of layout.categorical) {
      const input = tf.input({ shape: [1], name: inputName(c.name), dtype: 'int32' });
      inputs.push(input);
      const oneHot = new OneHot({ depth: c.cardinality }).apply(input) as tfjs.SymbolicTensor;
      parts.push(
        kind === 'logistic'
          ? oneHot
          : (tf.layers
              .dense({ units: 3, useBias: false, name: `emb_${inputName(c.name)}` })
              .apply(oneHot) as tfjs.SymbolicTensor),
      );
    }
    let x = tf.layers.concatenate().apply(parts) as tfjs.SymbolicTensor;
    if (kind === 'mlp')
      x = tf.layers.dense({ units: 6, activation: 'relu', name: 'hidden_0' }).apply(x) as tfjs.SymbolicTensor;
    const model = tf.model({
      inputs,
      outputs: tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'output' }).apply(x) as tfjs.SymbolicTensor,
    });
    model.compile({ optimizer: tf.train.adam(0.1), loss: 'binaryCrossentropy' });
    await fitted(tf, model, enc);
    const d = maxDiff(predict(tf, model, enc), forward(compileForward(model, layout.categorical, 2), enc));
    assert.ok(d < 1e-5, `${kind}: max difference ${d}`);
    model.dispose();
  }
});

test('the gather embedding learns: its gradient reaches the rows that were used, and only those', async () => {
  const { tf } = await selectBackend({});
  const enc = encoded(64);
  enc.categorical[0].indices.fill(2); // origin: only category 2 appears
  const model = buildModel(
    tf,
    layoutOf(enc),
    { name: 'm', model: 'mlp', learning_rate: 0.05, hidden: [4], embedding_dim: 2, wide: true },
    'classification',
    1,
  );
  const rows = (layer: string) =>
    model
      .getLayer(`${layer}_${inputName('origin')}`)
      .getWeights()[0]
      .arraySync() as number[][];
  const [embBefore, wideBefore] = [rows('emb'), rows('wide')];
  assert.deepEqual(wideBefore, [[0], [0], [0], [0], [0]], 'wide weights start at zero');
  await fitted(tf, model, enc);
  const [emb, wide] = [rows('emb'), rows('wide')];
  assert.notDeepEqual(emb[2], embBefore[2], 'the used embedding row moved');
  assert.notDeepEqual(wide[2], [0], 'the used wide weight moved');
  for (const k of [0, 1, 3, 4]) {
    assert.deepEqual(emb[k], embBefore[k], `unused embedding row ${k} is untouched`);
    assert.deepEqual(wide[k], [0], `unused wide weight ${k} is untouched`);
  }
  model.dispose();
});
