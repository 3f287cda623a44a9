import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from './backend.ts';
import { buildModel, layoutOf, predict } from './model.ts';
import { compileForward, forward } from './forward.ts';
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
    ],
    oov: {},
    missing: {},
  };
}

for (const cfg of [
  { name: 'lr', model: 'logistic' as const, learning_rate: 0.1 },
  { name: 'mlp', model: 'mlp' as const, learning_rate: 0.1, hidden: [16, 8], embedding_dim: 3, dropout: 0.2 },
]) {
  for (const task of ['classification', 'regression'] as const) {
    test(`plain-JS forward pass matches tfjs for a ${cfg.model} ${task} model`, async () => {
      const { tf } = await selectBackend({});
      const enc = encoded(300);
      const model = buildModel(tf, layoutOf(enc), cfg, task, 3);
      // Move the weights away from their initial values so every layer matters.
      const x = [tf.tensor2d(enc.numeric, [300, 2]), ...enc.categorical.map((c) => tf.tensor2d(c.indices, [300, 1], 'int32'))];
      await model.fit(x, tf.randomUniform([300, 1], 0, 1, 'float32', 1).round(), { epochs: 3, batchSize: 32, verbose: 0, shuffle: false });
      const viaTf = predict(tf, model, enc);
      const viaJs = forward(compileForward(model, layoutOf(enc).categorical, 2), enc);
      let maxDiff = 0;
      for (let i = 0; i < 300; i++) maxDiff = Math.max(maxDiff, Math.abs(viaTf[i] - viaJs[i]));
      assert.ok(maxDiff < 1e-5, `max difference ${maxDiff}`);
      tf.dispose(x);
      model.dispose();
    });
  }
}
