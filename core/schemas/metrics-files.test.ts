import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  EVALUATE_METRICS,
  MetricsFileError,
  confusionOf,
  evaluateFileSchema,
  parseMetrics,
  readJsonFile,
  readMetrics,
} from './metrics-files.ts';
import { parseBundleMeta, readBundleMeta, type BundleMeta } from './bundle-meta.ts';
import { higherIsBetter, isBetter, metricDirection, METRIC_DIRECTIONS, PRIMARY_METRICS } from './metric-directions.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const evaluation = {
  task: 'classification',
  model_name: 'm',
  rows_test: 10,
  primary_metric: 'roc_auc',
  higher_is_better: true,
  test: { roc_auc: 0.7, confusion: { tp: 1, fp: 2, tn: 3, fn: 4 } },
  baseline: { roc_auc: 0.5 },
  written_by_a_newer_version: 1,
};

test('a metrics file parses with defaults filled in and unknown fields kept', () => {
  const ev = parseMetrics('evaluate', { json: evaluation });
  assert.deepEqual(ev.test_ci, {});
  assert.equal((ev as Record<string, unknown>).written_by_a_newer_version, 1);
  assert.deepEqual(
    parseMetrics('register', {
      json: {
        model_name: 'm',
        version: 2,
        decision: 'staging',
        reason: 'r',
        production_before: null,
      },
    }).gates,
    {},
  );
});

test('a malformed metrics file gets one error naming the file, the field and the stage to re-run', () => {
  const bad = (json: unknown) => assert.throws(() => parseMetrics('evaluate', { json }), MetricsFileError);
  bad({ ...evaluation, rows_test: '10' });
  try {
    parseMetrics('evaluate', { json: { ...evaluation, test_ci: { roc_auc: [0.6] } } });
    assert.fail('should throw');
  } catch (err) {
    const e = err as MetricsFileError;
    assert.equal(e.file, EVALUATE_METRICS);
    assert.equal(e.field, 'test_ci.roc_auc');
    assert.match(
      e.message,
      /^metrics\/evaluate\.json: field `test_ci\.roc_auc`: .*; re-run the evaluate stage \(npm run pipeline -- evaluate\)$/,
    );
  }
  assert.throws(
    () => parseMetrics('evaluate', { json: { ...evaluation, primary_metric: 'speed' } }),
    /field `primary_metric`/,
  );
  assert.throws(
    () => parseMetrics('register', { json: [], where: 'base/register.json' }),
    /^Error: base\/register\.json: top level: /,
  );
});

test('readMetrics: null when absent, a clear error for broken JSON', async () => {
  const root = await tempDir('metrics-files-');
  assert.equal(await readMetrics('evaluate', { repo: root }), null);
  await mkdir(join(root, 'metrics'));
  await writeFile(join(root, EVALUATE_METRICS), '{"task": ');
  await assert.rejects(
    readMetrics('evaluate', { repo: root }),
    /metrics\/evaluate\.json is not valid JSON .*re-run the evaluate stage/,
  );
  await writeFile(join(root, EVALUATE_METRICS), JSON.stringify(evaluation));
  assert.equal((await readMetrics('evaluate', { repo: root }))?.test.roc_auc, 0.7);
});

test('one table of metric directions: losses and errors go down, scores go up, other names are no metric', () => {
  for (const m of ['log_loss', 'brier', 'ece', 'mae', 'mse', 'rmse', 'mape', 'smape'])
    assert.equal(higherIsBetter(m), false, m);
  for (const m of ['accuracy', 'precision', 'recall', 'f1', 'macro_f1', 'roc_auc', 'pr_auc', 'r2'])
    assert.equal(higherIsBetter(m), true, m);
  for (const m of PRIMARY_METRICS) assert.ok(metricDirection(m), m);
  assert.equal(metricDirection('threshold'), null);
  assert.equal(metricDirection('toString'), null, 'object prototype names are not metrics');
  assert.throws(() => higherIsBetter('speed'), /"speed" is not a known metric .*core\/schemas\/metric-directions\.ts/);
  assert.equal(Object.keys(METRIC_DIRECTIONS).length, 16);
});

test('isBetter: beyond the margin in the metric direction; a non-finite value never wins', () => {
  assert.equal(isBetter('roc_auc', 0.71, 0.7, 0.005), true);
  assert.equal(isBetter('roc_auc', 0.704, 0.7, 0.005), false);
  assert.equal(isBetter('rmse', 9.9, 10, 0.05), true);
  assert.equal(isBetter('rmse', 9.99, 10, 0.05), false);
  assert.equal(isBetter('rmse', 11, 10), false);
  assert.equal(isBetter('roc_auc', NaN, 0.5), false);
  assert.equal(isBetter('log_loss', 0.9, NaN), true);
});

test('readJsonFile says what went wrong without throwing; the readers wording it themselves get the kind', async () => {
  const root = await tempDir('metrics-files-');
  const origin = { where: 'metrics/evaluate.json', stage: 'evaluate' };
  const file = join(root, 'evaluate.json');
  const missing = await readJsonFile(file, evaluateFileSchema, origin);
  assert.equal(!missing.ok && missing.problem.kind, 'missing');
  await writeFile(file, JSON.stringify({ ...evaluation, baseline: 3 }));
  const shape = await readJsonFile(file, evaluateFileSchema, origin);
  assert.ok(!shape.ok && shape.problem.kind === 'shape' && shape.problem.field === 'baseline');
  assert.match(shape.error.message, /^metrics\/evaluate\.json: field `baseline`: .*re-run the evaluate stage/);
  await writeFile(file, JSON.stringify(evaluation));
  const good = await readJsonFile(file, evaluateFileSchema, origin);
  assert.equal(good.ok && good.value.rows_test, 10);
  // Inside another metrics directory (a workflow's METRICS_DIR) the file is named by its full path.
  assert.equal((await readMetrics('evaluate', { dir: root }))?.model_name, 'm');
  assert.equal(await readMetrics('register', { dir: root }), null);
  assert.throws(
    () => parseMetrics('evaluate', { text: '{"task": "classification"}', where: 'origin/model:metrics/evaluate.json' }),
    /^Error: origin\/model:metrics\/evaluate\.json: field `model_name`: /,
  );
  assert.throws(() => parseMetrics('evaluate', { text: 'nope', where: 'x.json' }), /^Error: x\.json is not valid JSON/);
});

test('confusion counts are non-negative integers', () => {
  assert.deepEqual(confusionOf({ confusion: { tp: 1, fp: 2, tn: 3, fn: 4 } }), { tp: 1, fp: 2, tn: 3, fn: 4 });
  assert.equal(confusionOf({ confusion: { tp: 1.5, fp: 2, tn: 3, fn: 4 } }), null);
  assert.throws(
    () => parseMetrics('evaluate', { json: { ...evaluation, test: { confusion: { tp: -1, fp: 0, tn: 0, fn: 0 } } } }),
    /field `test\.confusion\.tp`/,
  );
});

const bundleMeta = {
  format_version: 1,
  name: 'flight-delay',
  task: 'classification',
  candidate: 'mlp',
  model_type: 'mlp',
  params: {},
  threshold: 0.4,
  metrics: { validation: { roc_auc: 0.7 } },
  primary_metric: 'roc_auc',
  data_md5: null,
  git_commit: 'abc',
  created_at: '2026-01-01T00:00:00Z',
  backend: 'wasm',
  input_schema: { distance: { type: 'number', min: 0 } },
  rows: { train: 10 },
};

test('bundle.json: what the API shows (lineage, metrics, inputs) is checked; the error names the file and field', async () => {
  const meta = parseBundleMeta(bundleMeta, 'b/bundle.json');
  assert.equal(meta.input_schema.distance.required, true, 'input rules get their params.yaml defaults');
  assert.deepEqual(meta.metrics.validation, { roc_auc: 0.7 });
  assert.throws(
    () => parseBundleMeta({ ...bundleMeta, metrics: { validation: [] } }, 'b/bundle.json'),
    /^Error: b\/bundle\.json: field `metrics\.validation`: .*re-run the train stage/,
  );
  assert.throws(
    () => parseBundleMeta({ ...bundleMeta, input_schema: { distance: { type: 'float' } } }, 'b/bundle.json'),
    /field `input_schema\.distance\.type`/,
  );
  // A rule field from a newer trainer does not make this (older) reader refuse the bundle mid-rollout.
  assert.equal(
    parseBundleMeta({ ...bundleMeta, input_schema: { distance: { type: 'number', unit: 'miles' } } }, 'b/bundle.json')
      .input_schema.distance.type,
    'number',
  );
  const dir = await tempDir('bundle-meta-');
  await assert.rejects(readBundleMeta(dir), (err: Error) =>
    err.message.startsWith(`${join(dir, 'bundle.json')} does not exist; re-run the train stage`),
  );
  await writeFile(join(dir, 'bundle.json'), JSON.stringify({ ...bundleMeta, created_at: 5 }));
  await assert.rejects(
    readBundleMeta(dir),
    (err: Error) =>
      err instanceof MetricsFileError && err.field === 'created_at' && err.file === join(dir, 'bundle.json'),
  );
});

test('bundle.json: the schema is the type (BundleMeta): model kind, calibration and refit record are checked too', () => {
  const platt = { method: 'platt', a: 1.2, b: -0.3 };
  const isotonic = { method: 'isotonic', x: [0, 0.5, 1], y: [0.1, 0.4, 0.9] };
  const refit = { epochs: 1, learning_rate_factor: 0.1, rows: 40, seconds: 0.2 };
  const meta: BundleMeta = parseBundleMeta({ ...bundleMeta, calibration: platt, recent_refit: refit }, 'b/bundle.json');
  assert.deepEqual(meta.calibration, platt);
  assert.deepEqual(meta.recent_refit, refit);
  assert.deepEqual(parseBundleMeta({ ...bundleMeta, calibration: isotonic }, 'b/bundle.json').calibration, isotonic);
  const beta = { method: 'beta', a: 0.4, b: 1.0, c: -0.8 };
  assert.deepEqual(parseBundleMeta({ ...bundleMeta, calibration: beta }, 'b/bundle.json').calibration, beta);
  assert.equal(parseBundleMeta(bundleMeta, 'b/bundle.json').calibration, undefined, 'older bundles: served raw');
  assert.throws(
    () => parseBundleMeta({ ...bundleMeta, model_type: 'xgboost' }, 'b/bundle.json'),
    /^Error: b\/bundle\.json: field `model_type`: /,
  );
  assert.throws(
    () => parseBundleMeta({ ...bundleMeta, calibration: { method: 'spline' } }, 'b/bundle.json'),
    /field `calibration\.method`/,
  );
  assert.throws(
    () => parseBundleMeta({ ...bundleMeta, calibration: { ...beta, a: -0.1 } }, 'b/bundle.json'),
    /field `calibration\.a`/,
  );
  assert.throws(
    () => parseBundleMeta({ ...bundleMeta, calibration: { method: 'platt', a: 1 } }, 'b/bundle.json'),
    /field `calibration\.b`/,
  );
  assert.throws(
    () => parseBundleMeta({ ...bundleMeta, recent_refit: { ...refit, rows: 'all' } }, 'b/bundle.json'),
    /field `recent_refit\.rows`/,
  );
});
