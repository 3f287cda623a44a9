import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baselineOutputs } from './evaluate.ts';
import { evaluate } from './evaluate.ts';
import { quietLog } from '../../harness/testing/training/fixtures.ts';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';
import { readMetrics } from '../../core/schemas/metrics-files.ts';
import { readParquetTable } from '../../core/data/parquet.ts';
import { loadBundle } from '../../core/model/bundle.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { MODEL_DIR, PREPARED_DIR } from '../contracts/paths.ts';

const labels = (positives: number, n: number) => Float32Array.from({ length: n }, (_, i) => (i < positives ? 1 : 0));

test('classification baselines: the majority class for decisions, the class prior for probabilities, each named', () => {
  // Train: 25 % positive, so the majority class is 0; test: 20 % positive.
  const b = baselineOutputs('classification', labels(20, 100), labels(25, 100));
  const m = b.metrics as Record<string, unknown>;
  assert.equal(m.accuracy, 0.8, 'always 0: right on every negative');
  assert.equal(m.recall, 0);
  assert.equal(m.f1, 0);
  assert.deepEqual(m.confusion, { tp: 0, fp: 0, tn: 80, fn: 20 });
  assert.equal(m.roc_auc, 0.5);
  assert.ok(Math.abs((m.pr_auc as number) - 0.2) < 1e-9, 'PR-AUC of a constant = test prevalence');
  const ll = -(0.2 * Math.log(0.25) + 0.8 * Math.log(0.75));
  assert.ok(Math.abs((m.log_loss as number) - ll) < 1e-6, `log loss of the prior: ${String(m.log_loss)} vs ${ll}`);
  assert.deepEqual(b.kinds, {
    accuracy: 'majority_class',
    precision: 'majority_class',
    recall: 'majority_class',
    f1: 'majority_class',
    roc_auc: 'class_prior',
    pr_auc: 'class_prior',
    log_loss: 'class_prior',
    ece: 'class_prior',
  });
  assert.deepEqual(b.detail, { majority_class: 0, class_prior: 0.25 });
  assert.match(
    b.kind,
    /^majority class \(always 0\) for accuracy, precision, recall and F1; class prior \(probability 0\.25 for every row\) for ROC-AUC/,
  );

  // A positive majority predicts 1 for every row.
  const ones = baselineOutputs('classification', labels(60, 100), labels(70, 100));
  assert.equal((ones.metrics as Record<string, unknown>).accuracy, 0.6);
  assert.equal((ones.metrics as Record<string, unknown>).recall, 1);
  assert.match(ones.kind, /majority class \(always 1\)/);
});

test('regression baseline: the train mean for every row', () => {
  const b = baselineOutputs('regression', Float32Array.from([1, 3]), Float32Array.from([2, 2, 2]));
  assert.equal((b.metrics as Record<string, number>).mae, 1);
  assert.equal(b.kinds.mae, 'train_mean');
  assert.deepEqual(b.detail, { train_mean: 2 });
});

test('evaluate.json: the baseline of each metric is the fitting one, and the file reads back through its schema', async () => {
  const { repo, params } = await trainedRepo({}, { max_epochs: 1 });
  await evaluate({ repoRoot: repo, params, log: quietLog() });
  const ev = (await readMetrics('evaluate', { repo: repo }))!;
  const c = ev.test.confusion!;
  const rows = c.tp + c.fp + c.tn + c.fn;
  const positives = c.tp + c.fn;
  const prior = ev.baseline_detail!.class_prior;
  const majority = prior > 0.5 ? 1 : 0; // the fixture's flights are mostly late (65 %)
  assert.equal(ev.baseline_detail!.majority_class, majority);
  // The majority class for every row: accuracy is that class's share of test, recall all or nothing.
  const right = majority ? positives : rows - positives;
  assert.ok(Math.abs((ev.baseline.accuracy as number) - right / rows) < 1e-6);
  assert.equal(ev.baseline.recall, majority);
  assert.deepEqual(
    ev.baseline.confusion,
    majority
      ? { tp: positives, fp: rows - positives, tn: 0, fn: 0 }
      : { tp: 0, fp: 0, tn: rows - positives, fn: positives },
  );
  assert.equal(ev.baseline.roc_auc, 0.5);
  assert.equal(ev.baseline_kinds?.accuracy, 'majority_class');
  assert.equal(ev.baseline_kinds?.log_loss, 'class_prior');
  assert.equal(ev.calibration?.log_loss_baseline, ev.baseline.log_loss);
  assert.doesNotMatch(ev.baseline_kind!, /constant prevalence .* \(majority class\)/);
});

const gbdt = { name: 'gbdt', model: 'gbdt' as const, learning_rate: 0.3, max_iter: 20, max_leaf_nodes: 8, patience: 5 };

for (const [what, task, candidates] of [
  ['a calibrated tree classifier', {}, [gbdt]],
  ['a tree regression', { type: 'regression' as const, positive_above: undefined }, [gbdt]],
  ['a network', {}, undefined],
] as const)
  test(`${what}: predictTableBoth gives, bit for bit, predictTable and predictTable raw (evaluate walks the trees once for both)`, async () => {
    const { repo } = await trainedRepo(task, candidates ? { candidates: [...candidates] } : { max_epochs: 1 });
    const { tf } = await selectBackend({});
    const bundle = await loadBundle(tf, `${repo}/${MODEL_DIR}`);
    try {
      const table = await readParquetTable(`${repo}/${PREPARED_DIR}/test.parquet`);
      const both = bundle.predictTableBoth(table);
      assert.deepEqual(both.calibrated, bundle.predictTable(table));
      assert.deepEqual(both.raw, bundle.predictTable(table, { raw: true }));
      if (bundle.meta.calibration) assert.notDeepEqual(both.calibrated, both.raw, 'the calibration was applied to one');
    } finally {
      bundle.dispose();
    }
  });
