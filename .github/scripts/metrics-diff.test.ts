import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  binomial,
  bootstrapConfusionCI,
  diffMetrics,
  metricsFromConfusion,
  readBaseEvaluate,
  resampleConfusion,
  summarizeEvaluate,
} from './metrics-diff.ts';
import { seededRandom } from '../../core/platform/random.ts';
import {
  metricsFixture,
  parsedMetricsFixture,
  writeMetricsFixtureFile,
} from '../../harness/testing/core/metrics-fixtures.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const near = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} not within ${tol} of ${b}`);

test('metrics from a confusion matrix', () => {
  const m = metricsFromConfusion({ tp: 30, fp: 10, tn: 50, fn: 10 });
  assert.equal(m.accuracy, 0.8);
  assert.equal(m.precision, 0.75);
  assert.equal(m.recall, 0.75);
  assert.equal(m.f1, 0.75);
  assert.deepEqual(metricsFromConfusion({ tp: 0, fp: 0, tn: 5, fn: 0 }), {
    accuracy: 1,
    precision: 0,
    recall: 0,
    f1: 0,
  });
});

test('binomial draws have the right mean and variance on both branches', () => {
  for (const [n, p] of [
    [40, 0.05],
    [10_000, 0.3],
    [100_000, 0.0001],
  ] as const) {
    const rand = seededRandom(7);
    const xs = Array.from({ length: 20_000 }, () => binomial(n, p, rand));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    near(mean, n * p, 0.03 * n * p + 0.02, `mean n=${n} p=${p}`);
    near(variance, n * p * (1 - p), 0.06 * n * p * (1 - p) + 0.02, `variance n=${n} p=${p}`);
  }
});

test('a resampled confusion matrix keeps the test-set size and, on average, the cell shares', () => {
  const c = { tp: 3, fp: 14, tn: 80, fn: 3 };
  const rand = seededRandom(1);
  const sums = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < 5000; i++) {
    const r = resampleConfusion(c, rand);
    assert.equal(r.tp + r.fp + r.tn + r.fn, 100);
    for (const k of Object.keys(sums) as (keyof typeof sums)[]) sums[k] += r[k] / 5000;
  }
  for (const k of Object.keys(sums) as (keyof typeof sums)[]) near(sums[k], c[k], 0.2, k);
});

test('bootstrap CI of accuracy matches the binomial standard error, and is reproducible', () => {
  // 200 rows, accuracy 0.5: standard error sqrt(0.25/200) = 0.0354, so 95% ≈ 0.5 ± 0.069
  const c = { tp: 50, fp: 50, tn: 50, fn: 50 };
  const ci = bootstrapConfusionCI(c, { samples: 4000, seed: 3 });
  near(ci.accuracy[0], 0.431, 0.012, 'low');
  near(ci.accuracy[1], 0.569, 0.012, 'high');
  assert.deepEqual(
    bootstrapConfusionCI(c, { samples: 500, seed: 9 }),
    bootstrapConfusionCI(c, { samples: 500, seed: 9 }),
  );
  // larger test sets give tighter intervals
  const big = bootstrapConfusionCI({ tp: 5000, fp: 5000, tn: 5000, fn: 5000 }, { samples: 1000 });
  assert.ok(big.accuracy[1] - big.accuracy[0] < 0.02);
});

test('diff rows: direction, better-ness by metric, beyond-noise flag', () => {
  const current = summarizeEvaluate(
    parsedMetricsFixture('evaluate', {
      rows_test: 200,
      test: {
        accuracy: 0.5,
        roc_auc: 0.7,
        log_loss: 0.6,
        f1: 0.5,
        threshold: 0.4,
        confusion: { tp: 50, fp: 50, tn: 50, fn: 50 },
      },
    }),
  );
  assert.equal(current.test.threshold, undefined);
  const ci = { accuracy: [0.43, 0.57] as [number, number], f1: [0.42, 0.58] as [number, number] };
  const rows = diffMetrics(current, { accuracy: 0.4, roc_auc: 0.65, log_loss: 0.5, f1: 0.5 }, ci);
  assert.deepEqual(
    rows.map((r) => r.metric),
    ['roc_auc', 'accuracy', 'log_loss', 'f1'],
  );
  const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
  assert.equal(by.roc_auc.direction, 'up');
  assert.equal(by.roc_auc.better, true);
  assert.equal(by.roc_auc.beyondNoise, null, 'no interval without per-row scores');
  near(by.accuracy.delta!, 0.1, 1e-12);
  assert.equal(by.accuracy.beyondNoise, true);
  assert.equal(by.log_loss.direction, 'up');
  assert.equal(by.log_loss.better, false, 'log loss going up is worse');
  assert.equal(by.f1.direction, 'same');
  assert.equal(by.f1.better, null);
  assert.equal(by.f1.beyondNoise, false);
  const alone = diffMetrics(current, null);
  assert.equal(alone[0].base, null);
  assert.equal(alone[0].direction, null);
});

test('base metrics from a directory, from git show, or none; a malformed base names its file and field', async () => {
  const dir = await tempDir('base-metrics-');
  await writeMetricsFixtureFile(
    dir,
    'evaluate',
    metricsFixture('evaluate', {
      task: 'regression',
      primary_metric: 'rmse',
      higher_is_better: false,
      test: { rmse: 12, mae: 8 },
    }),
  );
  assert.deepEqual((await readBaseEvaluate({ dir }))?.test, { rmse: 12, mae: 8 });
  const calls: string[][] = [];
  const run = (cmd: string, args: string[]) => {
    calls.push([cmd, ...args]);
    if (args[1] === 'origin/model:metrics/evaluate.json')
      return Promise.resolve(JSON.stringify(metricsFixture('evaluate', { test: { accuracy: 0.9 } })));
    if (args[1] === 'origin/old:metrics/evaluate.json')
      return Promise.resolve(JSON.stringify({ test: { accuracy: 0.9 } }));
    return Promise.reject(new Error('fatal: path does not exist'));
  };
  assert.deepEqual((await readBaseEvaluate({ ref: 'origin/model', run }))?.test, { accuracy: 0.9 });
  assert.deepEqual(calls[0], ['git', 'show', 'origin/model:metrics/evaluate.json']);
  assert.equal(await readBaseEvaluate({ ref: 'origin/empty', run }), null);
  assert.equal(await readBaseEvaluate({ dir: join(dir, 'missing') }), null);
  await assert.rejects(
    readBaseEvaluate({ ref: 'origin/old', run }),
    /^Error: origin\/old:metrics\/evaluate\.json: field `task`: .*re-run the evaluate stage/,
  );
  await writeFile(join(dir, 'evaluate.json'), '{"task": ');
  await assert.rejects(readBaseEvaluate({ dir }), (err: Error) =>
    err.message.startsWith(`${join(dir, 'evaluate.json')} is not valid JSON`),
  );
});

test('row-level bootstrap intervals from evaluate.json (e.g. ROC-AUC) are read and decide "beyond noise"', () => {
  const current = summarizeEvaluate(
    parsedMetricsFixture('evaluate', { rows_test: 1000, test: { roc_auc: 0.66 }, test_ci: { roc_auc: [0.64, 0.68] } }),
  );
  assert.deepEqual(current.ci, { roc_auc: [0.64, 0.68] });
  const [inside] = diffMetrics(current, { roc_auc: 0.65 }, current.ci);
  assert.equal(inside.beyondNoise, false);
  const [outside] = diffMetrics(current, { roc_auc: 0.6 }, current.ci);
  assert.equal(outside.beyondNoise, true);
  assert.throws(
    () => parsedMetricsFixture('evaluate', { test_ci: { roc_auc: [0.64, 0.68], junk: 'x' } }),
    /field `test_ci\.junk`/,
  );
});
