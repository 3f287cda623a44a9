import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVALUATE_METRICS, MetricsFileError, parseMetricsFile, readMetricsFile } from './metrics-files.ts';
import { higherIsBetter, isBetter, metricDirection, METRIC_DIRECTIONS, PRIMARY_METRICS } from './metric-directions.ts';

const evaluation = {
  task: 'classification', model_name: 'm', rows_test: 10, primary_metric: 'roc_auc', higher_is_better: true,
  test: { roc_auc: 0.7, confusion: { tp: 1, fp: 2, tn: 3, fn: 4 } }, baseline: { roc_auc: 0.5 }, written_by_a_newer_version: 1,
};

test('a metrics file parses with defaults filled in and unknown fields kept', () => {
  const ev = parseMetricsFile('evaluate', evaluation);
  assert.deepEqual(ev.test_ci, {});
  assert.equal((ev as Record<string, unknown>).written_by_a_newer_version, 1);
  assert.deepEqual(parseMetricsFile('register', { model_name: 'm', version: 2, decision: 'staging', reason: 'r', production_before: null }).gates, {});
});

test('a malformed metrics file gets one error naming the file, the field and the stage to re-run', () => {
  const bad = (json: unknown) => assert.throws(() => parseMetricsFile('evaluate', json), MetricsFileError);
  bad({ ...evaluation, rows_test: '10' });
  try {
    parseMetricsFile('evaluate', { ...evaluation, test_ci: { roc_auc: [0.6] } });
    assert.fail('should throw');
  } catch (err) {
    const e = err as MetricsFileError;
    assert.equal(e.file, EVALUATE_METRICS);
    assert.equal(e.field, 'test_ci.roc_auc');
    assert.match(e.message, /^metrics\/evaluate\.json: field `test_ci\.roc_auc`: .*; re-run the evaluate stage \(npm run pipeline -- evaluate\)$/);
  }
  assert.throws(() => parseMetricsFile('evaluate', { ...evaluation, primary_metric: 'speed' }), /field `primary_metric`/);
  assert.throws(() => parseMetricsFile('register', [], 'base/register.json'), /^Error: base\/register\.json: top level: /);
});

test('readMetricsFile: null when absent, a clear error for broken JSON', async () => {
  const root = await mkdtemp(join(tmpdir(), 'metrics-files-'));
  try {
    assert.equal(await readMetricsFile(root, 'evaluate'), null);
    await mkdir(join(root, 'metrics'));
    await writeFile(join(root, EVALUATE_METRICS), '{"task": ');
    await assert.rejects(readMetricsFile(root, 'evaluate'), /metrics\/evaluate\.json is not valid JSON .*re-run the evaluate stage/);
    await writeFile(join(root, EVALUATE_METRICS), JSON.stringify(evaluation));
    assert.equal((await readMetricsFile(root, 'evaluate'))?.test.roc_auc, 0.7);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('one table of metric directions: losses and errors go down, scores go up, other names are no metric', () => {
  for (const m of ['log_loss', 'brier', 'ece', 'mae', 'mse', 'rmse', 'mape', 'smape']) assert.equal(higherIsBetter(m), false, m);
  for (const m of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'pr_auc', 'r2']) assert.equal(higherIsBetter(m), true, m);
  for (const m of PRIMARY_METRICS) assert.ok(metricDirection(m), m);
  assert.equal(metricDirection('threshold'), null);
  assert.equal(metricDirection('toString'), null, 'object prototype names are not metrics');
  assert.throws(() => higherIsBetter('speed'), /"speed" is not a known metric .*core\/metric-directions\.ts/);
  assert.equal(Object.keys(METRIC_DIRECTIONS).length, 15);
});

test('isBetter: beyond the margin in the metric direction; a non-finite value never wins', () => {
  assert.equal(isBetter('roc_auc', 0.71, 0.70, 0.005), true);
  assert.equal(isBetter('roc_auc', 0.704, 0.70, 0.005), false);
  assert.equal(isBetter('rmse', 9.9, 10, 0.05), true);
  assert.equal(isBetter('rmse', 9.99, 10, 0.05), false);
  assert.equal(isBetter('rmse', 11, 10), false);
  assert.equal(isBetter('roc_auc', NaN, 0.5), false);
  assert.equal(isBetter('log_loss', 0.9, NaN), true);
});
