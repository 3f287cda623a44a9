import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTable, takeRows, type Table } from '../../core/data/table.ts';
import { encodeFeatures, encodeTarget, fitFeatureSpec } from '../../core/model/features.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import type { CandidateConfig } from '../../core/model/network.ts';
import { memoryLogger } from '../../core/platform/log.ts';
import { seededRandom } from '../../core/platform/random.ts';
import type { Params } from '../../core/schemas/params.ts';
import { treeOutputs } from '../../core/model/trees.ts';
import { refitTreesOnAll } from '../gbdt/fit-gbdt.ts';
import { fitCandidate } from '../fit.ts';
import { outOfFoldOutputs } from './blend-oof.ts';

const params = {
  data: { source: 'x', format: 'auto' },
  task: { type: 'regression', target: 'y' },
  features: { x: { kind: 'numeric', transform: 'standard', missing: 'median' } },
} as unknown as Params;

/** y = x plus noise the trees can memorise but not predict. */
function table(n: number): Table {
  const r = seededRandom(9);
  const x = Float64Array.from({ length: n }, () => r() * 10);
  return makeTable({
    x: { type: 'number', values: x },
    y: { type: 'number', values: x.map((v) => v + (r() - 0.5) * 8) },
  });
}

const mse = (y: Float32Array, p: Float32Array) => y.reduce((s, v, i) => s + (v - p[i]) ** 2, 0) / y.length;
const mlp: CandidateConfig = { name: 'mlp', model: 'mlp', learning_rate: 0.02, hidden: [4] };
const gbdt = {
  name: 'gbdt',
  model: 'gbdt' as const,
  learning_rate: 0.5,
  max_iter: 200,
  max_leaf_nodes: 31,
  min_samples_leaf: 1,
  patience: 200,
};

test('out-of-fold outputs: one per row and member, from fits that did not see the row (memorised noise shows as error)', async () => {
  const { tf } = await selectBackend({ log: memoryLogger() });
  const whole = table(200);
  const spec = fitFeatureSpec(whole, params);
  const tables = {
    train: takeRows(whole, [...Array(150).keys()]),
    validation: takeRows(
      whole,
      [...Array(50).keys()].map((i) => i + 150),
    ),
  };
  const targetScaler = { mean: 5, std: 3 };
  const o = {
    task: 'regression' as const,
    primary: 'rmse' as const,
    seed: 1,
    batchSize: 32,
    folds: 5,
    targetScaler,
    log: memoryLogger(),
  };
  const members = [
    { cfg: mlp, budget: 3 },
    { cfg: gbdt as CandidateConfig, budget: 200 },
  ];
  const { y, outputs } = await outOfFoldOutputs(tf, members, spec, tables, o);
  assert.deepEqual(Array.from(y), Array.from(encodeTarget(spec.target, whole.columns.y)));
  for (const out of outputs) {
    assert.equal(out.length, 200);
    assert.ok(out.every(Number.isFinite));
  }
  // In sample, 200 deep iterations at min_samples_leaf 1 learn the noise; out of fold they cannot.
  const all = refitTreesOnAll(gbdt, spec, tables, 200, { ...o, log: memoryLogger() });
  const inSample = treeOutputs(all.model, spec, whole, null).map((v) => v * targetScaler.std + targetScaler.mean);
  assert.ok(
    mse(y, outputs[1]) > 2 * mse(y, inSample),
    `out of fold ${mse(y, outputs[1])}, in sample ${mse(y, inSample)}`,
  );
  assert.ok(mse(y, outputs[1]) > 3, 'the noise variance (64/12 ≈ 5.3) shows out of fold');
});

test('fitCandidate keepLast: trains every epoch asked, whatever patience says, and restores no earlier epoch', async () => {
  const { tf } = await selectBackend({ log: memoryLogger() });
  const whole = table(120);
  const spec = fitFeatureSpec(whole, params);
  const rows = { enc: encodeFeatures(spec, whole), y: encodeTarget(spec.target, whole.columns.y) };
  const fit = await fitCandidate(
    tf,
    mlp,
    { train: rows, validation: rows },
    {
      task: 'regression',
      primary: 'rmse',
      seed: 2,
      maxEpochs: 6,
      patience: 1,
      batchSize: 16,
      keepLast: true,
      log: memoryLogger(),
    },
  );
  assert.equal(fit.epochs, 6);
  assert.equal(fit.bestEpoch, 0, 'no epoch was kept as the best');
  assert.equal(fit.history.length, 6);
  fit.model.dispose();
});
