/**
 * Synthetic metrics/ folders for tests, up to the largest report this project writes: a full-data
 * run (200-point curves, 10 calibration bins) with every feature drift-checked. Deterministic.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MARKER } from '../../../.github/scripts/comment.ts';
import { featureFile } from '../../../.github/scripts/report/charts.ts';
import { metricsFixture } from '../core/metrics-fixtures.ts';

export interface FixtureOptions {
  features?: number;
  bins?: number;
  curvePoints?: number;
  /** Write empty PNG files where the report stage writes its charts. */
  pngs?: boolean;
  /** Feature names (default f00, f01, …); overrides `features`. */
  names?: string[];
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export async function writeMetricsFixture(dir: string, o: FixtureOptions = {}): Promise<{ names: string[] }> {
  const n = o.curvePoints ?? 200;
  const names = o.names ?? Array.from({ length: o.features ?? 6 }, (_, i) => `f${String(i).padStart(2, '0')}`);
  const binsPer = o.bins ?? 20;
  await mkdir(join(dir, 'plots'), { recursive: true });
  await mkdir(join(dir, 'report'), { recursive: true });
  // A concave ROC (tpr = fpr^0.5) and the PR curve of the same scores at 20 % prevalence.
  const roc = Array.from({ length: n }, (_, i) => {
    const fpr = i / (n - 1);
    return { fpr: round(fpr), tpr: round(Math.sqrt(fpr)), threshold: i === 0 ? null : round(1 - fpr) };
  });
  const pr = roc.slice(1).map((p) => ({
    recall: p.tpr,
    precision: round((0.2 * p.tpr) / (0.2 * p.tpr + 0.8 * p.fpr)),
    threshold: p.threshold,
  }));
  const calibration = Array.from({ length: 10 }, (_, i) => ({
    bin: i,
    lower: i / 10,
    upper: (i + 1) / 10,
    mean_predicted: i === 3 ? null : round(i / 10 + 0.05),
    fraction_positive: i === 3 ? null : round((i / 10 + 0.05) * 0.8),
    count: i === 3 ? 0 : 1000 + i,
  }));
  const distributions: Record<string, { kind: string; bins: { bin: string; train: number; test: number }[] }> = {};
  const driftFeatures: Record<
    string,
    { method: string; score: number; threshold: number; drifted: boolean; status: string }
  > = {};
  names.forEach((name, f) => {
    const bins = Array.from({ length: binsPer }, (_, b) => ({
      bin: `${name}-bin-${b}`,
      train: round(1 / binsPer),
      test: round(b === 0 ? 1 / binsPer + (f % 7) / 50 : 1 / binsPer - (f % 7) / 50 / (binsPer - 1)),
    }));
    distributions[name] = { kind: f % 2 ? 'numeric' : 'categorical', bins };
    const score = round(((f * 37) % 100) / 400);
    driftFeatures[name] = {
      method: f % 2 ? 'wasserstein' : 'jensen_shannon',
      score,
      threshold: 0.1,
      drifted: score > 0.1,
      status: 'ok',
    };
  });
  const drifted = Object.entries(driftFeatures)
    .filter(([, v]) => v.drifted)
    .map(([k]) => k);
  const confusion = { tp: 3372, fp: 14336, tn: 4415, fn: 367 };
  const files: Record<string, unknown> = {
    'evaluate.json': metricsFixture('evaluate', {
      rows_test: 450_000,
      test: {
        roc_auc: 0.6541,
        pr_auc: 0.2584,
        accuracy: 0.3462,
        f1: 0.3145,
        precision: 0.1904,
        recall: 0.9018,
        log_loss: 0.8661,
        confusion,
      },
    }),
    'register.json': metricsFixture('register', {
      version: 12,
      decision: 'staging',
      reason: 'not promoted',
      production_before: { version: 11, metric: 0.65, metrics: { roc_auc: 0.65 } },
      gto_tags: ['flight-delay@v12.0.0', 'flight-delay#staging#12'],
    }),
    'drift.json': metricsFixture('dataDrift', {
      status: 'ok',
      production_version: 11,
      rows: 2_100_000,
      dataset_drift: drifted.length > names.length / 2,
      drift_share: round(drifted.length / Math.max(1, names.length)),
      drifted_features: drifted,
      features: driftFeatures,
    }),
    'feature-distributions.json': distributions,
    'plots/roc.json': roc,
    'plots/pr.json': pr,
    'plots/calibration.json': calibration,
    'plots/residuals.json': [],
  };
  for (const [path, value] of Object.entries(files)) await writeFile(join(dir, path), JSON.stringify(value, null, 2));
  // report.md as the report stage lays it out: every chart as an image plus its table, every feature folded.
  const table = (rows: number) =>
    [
      '| bin | train | test | difference |',
      '| --- | ---: | ---: | ---: |',
      ...Array.from({ length: rows }, (_, i) => `| bin-${i} | 5.0% | 5.2% | +0.2 pp |`),
    ].join('\n');
  const report = [
    MARKER,
    '# 🟡 flight-delay v12',
    '## Test set',
    '![ROC curve](report/roc.png)',
    '<details><summary>ROC curve as a table</summary>\n\n' + table(10) + '\n\n</details>',
    ...names.map(
      (name) =>
        `<details><summary>${name}</summary>\n\n![${name}: train vs test](report/${featureFile(name)}.png)\n\n<details><summary>${name} bins as a table</summary>\n\n${table(binsPer)}\n\n</details>\n\n</details>`,
    ),
  ].join('\n\n');
  await writeFile(join(dir, 'report.md'), report + '\n');
  if (o.pngs ?? true)
    for (const file of ['roc', 'pr', 'calibration', 'confusion', ...names.map(featureFile)])
      await writeFile(join(dir, 'report', `${file}.png`), '');
  return { names };
}
