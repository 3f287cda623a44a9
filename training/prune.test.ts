import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTable } from '../core/data/table.ts';
import { encodeFeatures, encodeTarget, fitFeatureSpec } from '../core/model/features.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import type { CandidateConfig } from '../core/model/network.ts';
import { memoryLogger } from '../core/platform/log.ts';
import { seededRandom } from '../core/platform/random.ts';
import type { Params } from '../core/schemas/params.ts';
import { fitCandidate, type FitOptions } from './fit.ts';
import { newBoard, outranked, post, rivalBest } from './prune.ts';

const epochs = (...values: number[]) => values.map((value, i) => ({ epoch: i + 1, value }));

test('outranked: the rival beats the best so far plus the larger of the last two gains for every epoch left', () => {
  // The flights' network (validation ROC-AUC by epoch, max_epochs 8).
  const curve = epochs(0.7958, 0.8004, 0.8051, 0.8077, 0.8078);
  // After epoch 4: gains 0.0047 and 0.0026 → 0.8077 + 0.0047 × 4 = 0.8265.
  assert.equal(outranked('roc_auc', curve.slice(0, 4), 0.8077, 8, 0.826), undefined);
  const at4 = outranked('roc_auc', curve.slice(0, 4), 0.8077, 8, 0.827);
  assert.equal(at4?.at_epoch, 4);
  assert.ok(Math.abs(at4.reachable - 0.8265) < 1e-9);
  // After epoch 5: gains 0.0026 and 0.0001 → 0.8078 + 0.0026 × 3 = 0.8156.
  assert.ok(Math.abs(outranked('roc_auc', curve, 0.8078, 8, 0.8157)!.reachable - 0.8156) < 1e-9);
  assert.equal(outranked('roc_auc', curve, 0.8078, 8, 0.8155), undefined);
});

test('outranked: lower-is-better metrics, a worse last epoch, and nothing decided too early', () => {
  // RMSE falling 30 → 28 → 27.5: reachable 27.5 − 2 × 2 (the larger of the last two gains) = 23.5.
  const rmse = epochs(30, 28, 27.5);
  assert.equal(outranked('rmse', rmse, 27.5, 5, 23.4)?.reachable, 23.5);
  assert.equal(outranked('rmse', rmse, 27.5, 5, 23.6), undefined);
  // A worse epoch gains nothing: the best so far is what it can reach, with the earlier gain.
  assert.ok(outranked('roc_auc', epochs(0.7, 0.72, 0.71), 0.72, 3, 0.73));
  assert.equal(outranked('roc_auc', epochs(0.7, 0.72, 0.71), 0.72, 4, 0.73), undefined);
  // One epoch is no pace; no rival yet; at max_epochs only the best counts.
  assert.equal(outranked('roc_auc', epochs(0.6), 0.6, 8, 0.99), undefined);
  assert.equal(outranked('roc_auc', epochs(0.6, 0.61), 0.61, 8, NaN), undefined);
  assert.ok(outranked('roc_auc', epochs(0.6, 0.7), 0.7, 2, 0.7001));
});

test('the board keeps the best value any rival posted, in the metric direction', () => {
  const auc = newBoard();
  assert.ok(Number.isNaN(rivalBest(auc)));
  post(auc, 'roc_auc', 0.7);
  post(auc, 'roc_auc', 0.65);
  post(auc, 'roc_auc', NaN);
  assert.equal(rivalBest(auc), 0.7);
  const rmse = newBoard();
  post(rmse, 'rmse', 3);
  post(rmse, 'rmse', 4);
  post(rmse, 'rmse', 2.5);
  assert.equal(rivalBest(rmse), 2.5);
});

test('a network stops after the epoch a rival is out of its reach, keeps its best weights, and says so', async () => {
  const { tf } = await selectBackend({ log: memoryLogger() });
  const r = seededRandom(5);
  const n = 400;
  const a = Float64Array.from({ length: n }, () => r());
  const whole = makeTable({
    a: { type: 'number', values: a },
    label: { type: 'number', values: Float64Array.from(a, (v) => (v + r() * 0.6 > 0.8 ? 1 : 0)) },
  });
  const params = {
    data: { source: 'x', format: 'auto' },
    task: { type: 'classification', target: 'label', positive_above: 0.5 },
    features: { a: { kind: 'numeric', transform: 'standard', missing: 'median' } },
  } as unknown as Params;
  const spec = fitFeatureSpec(whole, params);
  const rows = { enc: encodeFeatures(spec, whole), y: encodeTarget(spec.target, whole.columns.label) };
  const cfg: CandidateConfig = { name: 'mlp', model: 'mlp', learning_rate: 0.05, hidden: [4] };
  const log = memoryLogger();
  const opts: FitOptions = {
    task: 'classification',
    primary: 'roc_auc',
    seed: 1,
    maxEpochs: 6,
    patience: 6,
    batchSize: 32,
    log,
  };
  const free = await fitCandidate(tf, cfg, { train: rows, validation: rows }, opts);
  assert.equal(free.epochs, 6);
  assert.equal(free.pruned, undefined);
  // A rival no network reaches: stopped after the second epoch, its first two epochs as before.
  const stopped = await fitCandidate(tf, cfg, { train: rows, validation: rows }, { ...opts, rival: () => 1.5 });
  assert.equal(stopped.epochs, 2);
  assert.equal(stopped.pruned?.at_epoch, 2);
  assert.equal(stopped.pruned?.rival, 1.5);
  assert.deepEqual(
    stopped.history.map((e) => e.value),
    free.history.slice(0, 2).map((e) => e.value),
  );
  assert.equal(stopped.bestValue, Math.max(...free.history.slice(0, 2).map((e) => e.value)));
  assert.ok(
    log.lines.some((l) =>
      /mlp: stopped after epoch 2: another candidate already has validation roc_auc 1\.5000/.test(l),
    ),
  );
  // A rival below it: the same fit as without one.
  const beside = await fitCandidate(tf, cfg, { train: rows, validation: rows }, { ...opts, rival: () => 0.5 });
  assert.deepEqual(
    beside.history.map((e) => e.value),
    free.history.map((e) => e.value),
  );
  for (const f of [free, stopped, beside]) f.model.dispose();
});
