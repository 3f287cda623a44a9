/**
 * Stage `evaluate`: the trained bundle, loaded the way the API loads it, on the test split:
 * metrics at the threshold chosen on validation, a baseline beside them, DVC plot files (ROC, PR,
 * calibration or residuals), train-vs-test feature distributions, edge-case validation and the
 * single-record latency.
 */
import { join } from 'node:path';
import { writeMetricsFile } from '../../core/schemas/metrics-files.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { writeJsonAtomic } from '../../core/platform/atomic.ts';
import { openParquet, readParquetRowGroups } from '../../core/data/parquet.ts';
import { encodeTarget } from '../../core/model/features.ts';
import {
  averagePrecision,
  calibrationCurve,
  classificationMetrics,
  logLoss,
  mae,
  evenlySpaced,
  prCurve,
  r2,
  regressionMetrics,
  rmse,
  rocAuc,
  rocCurve,
} from '../../core/model/quality-metrics.ts';
import { bootstrapCis } from '../../core/model/bootstrap.ts';
import { expectedCalibrationError } from '../../core/model/calibration.ts';
import { histogram, profiledNumbers, profiledSource } from '../../core/model/profile.ts';
import { loadBundle, type LoadedBundle } from '../../core/model/bundle.ts';
import { decisionThreshold } from '../../core/model/decision.ts';
import { edgeCases, runEdgeCases } from '../edge-cases.ts';
import { datetimePart } from '../../core/model/features.ts';
import type { Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import { DISTRIBUTIONS_FILE, MODEL_DIR, PLOTS_DIR, PREPARED_DIR } from '../contracts/paths.ts';
import { evaluateStage } from '../contracts/evaluate.ts';
import type { StageParams } from '../contracts/contract.ts';
import { HIGHER_IS_BETTER, type PrimaryMetric } from '../candidate-metrics.ts';
import { isMain, runStage } from '../stage-cli.ts';
import { evaluateMulticlass } from '../evaluate-multiclass.ts';

export { DISTRIBUTIONS_FILE, EVALUATE_METRICS, PLOTS_DIR } from '../contracts/paths.ts';

const round = (x: number, d = 6) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);
function roundAll<T>(o: T): T {
  if (typeof o === 'number') return round(o) as T;
  if (Array.isArray(o)) return o.map(roundAll) as T;
  if (o && typeof o === 'object') return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, roundAll(v)])) as T;
  return o;
}

/** Points per curve in a plot file. */
const PLOT_POINTS = 200;

/** Keep at most `max` points, always the first and last, so plot files stay small. */
export function subsample<T>(points: T[], max = PLOT_POINTS): T[] {
  return evenlySpaced(points.length, max).map((i) => points[i]);
}

/** The metrics that score a probability (threshold-free); the rest are read at the decision threshold. */
export const PROBABILISTIC_METRICS = ['roc_auc', 'pr_auc', 'log_loss', 'ece'] as const;
/** The metrics that score the 0/1 decision at the threshold. */
export const THRESHOLD_METRICS = ['accuracy', 'precision', 'recall', 'f1'] as const;

/** Which trivial predictor a baseline metric comes from. */
export type BaselineKind = 'majority_class' | 'class_prior' | 'train_mean';

/**
 * The baselines a model has to beat, each the fair one for its metrics. Classification: the
 * decision metrics (accuracy, precision, recall, F1, the confusion counts) of the majority class of
 * train, predicted for every row; the probability metrics (ROC-AUC 0.5, PR-AUC = test prevalence,
 * log loss, ECE) of the class prior, train's prevalence given as every row's probability. (The
 * prior at the model's threshold is no baseline of the decisions: below the threshold it predicts
 * all 0, above it all 1, whichever the majority.) Regression: the train mean for every row.
 */
export function baselineOutputs(
  task: 'classification' | 'regression',
  y: Float32Array,
  yTrain: Float32Array | TrainTarget,
) {
  const train = yTrain instanceof Float32Array ? trainTargetOf([yTrain]) : yTrain;
  const mean = train.sum / (train.rows || 1); // prevalence or mean
  if (task === 'regression') {
    const metrics = regressionMetrics(y, new Float32Array(y.length).fill(mean));
    const kinds: Record<string, BaselineKind> = Object.fromEntries(Object.keys(metrics).map((k) => [k, 'train_mean']));
    return {
      metrics,
      kinds,
      detail: { train_mean: mean },
      kind: `train mean ${round(mean, 3)} for every row`,
    };
  }
  const majority = mean > 0.5 ? 1 : 0;
  const prior = new Float32Array(y.length).fill(mean);
  const decisions = classificationMetrics(y, new Float32Array(y.length).fill(majority), 0.5);
  const probabilities = classificationMetrics(y, prior, 0.5);
  const metrics = {
    accuracy: decisions.accuracy,
    precision: decisions.precision,
    recall: decisions.recall,
    f1: decisions.f1,
    confusion: decisions.confusion,
    roc_auc: probabilities.roc_auc,
    pr_auc: probabilities.pr_auc,
    log_loss: probabilities.log_loss,
    ece: expectedCalibrationError(y, prior),
  };
  const kinds: Record<string, BaselineKind> = {
    ...Object.fromEntries(THRESHOLD_METRICS.map((k) => [k, 'majority_class'])),
    ...Object.fromEntries(PROBABILISTIC_METRICS.map((k) => [k, 'class_prior'])),
  };
  return {
    metrics,
    kinds,
    detail: { majority_class: majority, class_prior: mean },
    kind:
      `majority class (always ${majority}) for accuracy, precision, recall and F1; ` +
      `class prior (probability ${round(mean, 4)} for every row) for ROC-AUC, PR-AUC, log loss and ECE`,
  };
}

/** What the baselines need of the training split's target: its rows, sum and (multi-class) count per class. */
export interface TrainTarget {
  rows: number;
  sum: number;
  counts: number[];
}

/** Sums over the encoded training targets in row order, chunk after chunk (the same sum as over the whole column). */
export function trainTargetOf(chunks: Iterable<Float32Array>, classes = 0): TrainTarget {
  const out: TrainTarget = { rows: 0, sum: 0, counts: new Array<number>(classes).fill(0) };
  for (const y of chunks) addTrainTarget(out, y);
  return out;
}

function addTrainTarget(into: TrainTarget, y: Float32Array): void {
  into.rows += y.length;
  for (const v of y) {
    into.sum += v;
    if (into.counts.length) into.counts[v]++;
  }
}

export function evaluateOutputs(
  task: 'classification' | 'regression',
  y: Float32Array,
  p: Float32Array,
  yTrain: Float32Array | TrainTarget,
  threshold: number,
) {
  const baseline = baselineOutputs(task, y, yTrain);
  if (task === 'regression') return { test: regressionMetrics(y, p), baseline };
  // ece: expected calibration error (10 equal-width bins) of the served probabilities.
  return { test: { ...classificationMetrics(y, p, threshold), ece: expectedCalibrationError(y, p) }, baseline };
}

export function featureDistributions(bundle: LoadedBundle, test: Table) {
  return new TestDistributions(bundle).add(test).result();
}

/** Counts of the test rows in the reference profile's bins and categories, added a row group at a time. */
export class TestDistributions {
  private readonly numeric = new Map<string, number[]>();
  private readonly categorical = new Map<string, { counts: Map<string, number>; total: number }>();

  constructor(private readonly bundle: LoadedBundle) {}

  add(test: Table): this {
    for (const [name, prof] of Object.entries(this.bundle.profile.features)) {
      const { column, part } = profiledSource(name, test.columns);
      const c = test.columns[column];
      if (!c) continue;
      if (prof.kind === 'numeric') {
        if (c.type === 'string') continue;
        const add = histogram(profiledNumbers(c, part), prof.histogram.edges);
        const sum = this.numeric.get(name);
        if (sum) add.forEach((n, i) => (sum[i] += n));
        else this.numeric.set(name, add);
        continue;
      }
      let acc = this.categorical.get(name);
      if (!acc) this.categorical.set(name, (acc = { counts: new Map(), total: 0 }));
      for (let r = 0; r < test.length; r++) {
        let key: string | null;
        if (part && c.type !== 'string')
          key = Number.isFinite(c.values[r]) ? String(datetimePart(c.values[r], part)) : null;
        else if (c.type === 'string') key = c.codes[r] < 0 ? null : c.dict[c.codes[r]];
        else key = null;
        if (key === null) continue;
        acc.counts.set(key, (acc.counts.get(key) ?? 0) + 1);
        acc.total++;
      }
    }
    return this;
  }

  result() {
    const out: Record<
      string,
      { kind: 'numeric' | 'categorical'; bins: { bin: string; train: number; test: number }[] }
    > = {};
    for (const [name, prof] of Object.entries(this.bundle.profile.features)) {
      const part = name.split('.')[1] as string | undefined;
      if (prof.kind === 'numeric') {
        const testCounts = this.numeric.get(name);
        if (!testCounts) continue;
        const trainTotal = prof.histogram.counts.reduce((a, b) => a + b, 0) || 1;
        const testTotal = testCounts.reduce((a, b) => a + b, 0) || 1;
        const e = prof.histogram.edges;
        out[name] = {
          kind: 'numeric',
          bins: testCounts.map((n, i) => ({
            bin: `${fmt(e[i])}–${fmt(e[i + 1])}`,
            train: prof.histogram.counts[i] / trainTotal,
            test: n / testTotal,
          })),
        };
        continue;
      }
      const acc = this.categorical.get(name);
      if (!acc) continue;
      const { counts, total } = acc;
      const trainTotal = prof.count || 1;
      const listed = new Set(prof.top.map((t) => t.value));
      const other = [...counts.entries()].filter(([k]) => !listed.has(k)).reduce((s, [, n]) => s + n, 0);
      const top = part ? [...prof.top].sort((a, b) => Number(a.value) - Number(b.value)) : prof.top.slice(0, 15);
      out[name] = {
        kind: 'categorical',
        bins: [
          ...top.map((t) => ({
            bin: t.value,
            train: t.count / trainTotal,
            test: (counts.get(t.value) ?? 0) / (total || 1),
          })),
          ...(part
            ? []
            : [
                {
                  bin: 'other',
                  train: (prof.other + prof.top.slice(15).reduce((s, t) => s + t.count, 0)) / trainTotal,
                  test:
                    other / (total || 1) +
                    prof.top.slice(15).reduce((s, t) => s + (counts.get(t.value) ?? 0), 0) / (total || 1),
                },
              ]),
        ],
      };
    }
    return roundAll(out);
  }
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));

export function latencyMs(
  bundle: LoadedBundle,
  record: unknown,
  runs = 200,
): { p50: number; p95: number; max: number } {
  for (let i = 0; i < 10; i++) bundle.predictRecords([record]); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    bundle.predictRecords([record]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    p50: round(times[Math.floor(runs * 0.5)], 3)!,
    p95: round(times[Math.floor(runs * 0.95)], 3)!,
    max: round(times[runs - 1], 3)!,
  };
}

/** Its contract declares no params: everything it needs comes from the bundle. */
export async function evaluate(options: { repoRoot: string; params?: StageParams<typeof evaluateStage>; log: Logger }) {
  const { repoRoot, log } = options;
  const { tf } = await selectBackend({ log });
  const bundle = await loadBundle(tf, join(repoRoot, MODEL_DIR));
  try {
    const golden = bundle.checkGolden();
    if (!golden.ok)
      throw new Error(
        `the bundle does not reproduce its golden examples after loading: ${JSON.stringify(golden.mismatches.slice(0, 3))}`,
      );
    const task = bundle.meta.task;
    const classes = bundle.classes;
    const target = bundle.spec.target;
    const split = (s: string) => join(repoRoot, PREPARED_DIR, `${s}.parquet`);
    // The baselines need the training target's sums only: one column, a row group at a time.
    const yTrain = trainTargetOf([], classes?.length ?? 0);
    for await (const chunk of readParquetRowGroups(split('train'), { columns: [target.column] }))
      addTrainTarget(yTrain, encodeTarget(target, chunk.columns[target.column]));
    // Test is scored a row group at a time; what is kept per row is its label and scores (4 bytes each).
    const testSource = await openParquet(split('test'));
    const rowsTest = testSource.rows;
    const k = classes?.length ?? 1;
    const rawNeeded =
      classes !== undefined ||
      (task === 'classification' && (bundle.meta.calibration !== undefined || bundle.meta.blend !== undefined));
    const y = new Float32Array(rowsTest);
    const p = new Float32Array(rowsTest * k);
    const rawScores = rawNeeded ? new Float32Array(rowsTest * k) : p;
    const distributions = new TestDistributions(bundle);
    for await (const chunk of readParquetRowGroups(testSource)) {
      y.set(encodeTarget(target, chunk.columns[target.column]), chunk.rowStart);
      if (rawNeeded) {
        const both = bundle.predictTableBoth(chunk);
        p.set(both.calibrated, chunk.rowStart * k);
        rawScores.set(both.raw, chunk.rowStart * k);
      } else p.set(bundle.predictTable(chunk), chunk.rowStart * k);
      distributions.add(chunk);
    }
    const multi = classes
      ? evaluateMulticlass(y, p, rawScores, { priors: yTrain.counts.map((c) => c / (yTrain.rows || 1)) }, classes)
      : undefined;
    const threshold = decisionThreshold(bundle.meta);
    const { test: testMetrics, baseline: baselines } = multi
      ? { test: multi.test, baseline: multi.baseline }
      : evaluateOutputs(task, y, p, yTrain, threshold);
    const baseline = baselines.metrics;

    // Every plot file is always written (empty when it does not apply) so dvc.yaml declares one set.
    const plots: Record<string, unknown[]> = {
      'roc.json': [],
      'pr.json': [],
      'calibration.json': [],
      'calibration-uncalibrated.json': [],
      'residuals.json': [],
      'confusion.json': multi?.confusionRows ?? [],
    };
    // A blend has no calibration of its own: each member is calibrated (bundle.json blend.members).
    let calibration: Record<string, unknown> | undefined =
      multi && bundle.meta.blend ? { ...multi.calibration, method: 'per_member' } : multi?.calibration;
    let intervals: Record<string, unknown> | undefined;
    if (multi) {
      // Multi-class: no single ROC/PR/reliability curve; the confusion rows and per-class figures stand in.
    } else if (task === 'classification') {
      // Only the plotted points are built (subsample's rule), not one per distinct test score.
      plots['roc.json'] = rocCurve(y, p, PLOT_POINTS).map((pt) => ({
        ...pt,
        threshold: Number.isFinite(pt.threshold) ? pt.threshold : 1,
      }));
      plots['pr.json'] = prCurve(y, p, PLOT_POINTS);
      plots['calibration.json'] = calibrationCurve(y, p, 10);
      // The same test rows without the bundle's calibration: the "before" of the reliability chart.
      const raw = rawScores;
      plots['calibration-uncalibrated.json'] = calibrationCurve(y, raw, 10);
      calibration = {
        method: bundle.meta.calibration?.method ?? (bundle.meta.blend ? 'per_member' : 'none'),
        ece: expectedCalibrationError(y, p),
        ece_uncalibrated: expectedCalibrationError(y, raw),
        log_loss: logLoss(y, p),
        log_loss_uncalibrated: logLoss(y, raw),
        log_loss_baseline: (baseline as { log_loss: number }).log_loss, // the class prior's
      };
    } else {
      const errors = Float64Array.from(p, (v, i) => v - y[i]);
      const sorted = Float64Array.from(errors).sort();
      const edges = Array.from(
        { length: 21 },
        (_, i) => sorted[0] + ((sorted[sorted.length - 1] - sorted[0]) * i) / 20,
      );
      plots['residuals.json'] = histogram(errors, edges).map((count, i) => ({
        bin: `${fmt(edges[i])}–${fmt(edges[i + 1])}`,
        count,
      }));
      const q = bundle.meta.residual_quantiles;
      if (q?.q5 !== undefined && q.q95 !== undefined) {
        // The 90 % interval [prediction + q5, prediction + q95] from validation residuals: how often it holds on test.
        let inside = 0;
        for (let i = 0; i < y.length; i++) if (y[i] >= p[i] + q.q5 && y[i] <= p[i] + q.q95) inside++;
        intervals = {
          nominal: 0.9,
          from: 'validation residual quantiles q5–q95',
          residual_quantiles: q,
          test_coverage: inside / (y.length || 1),
        };
      }
    }
    for (const [file, points] of Object.entries(plots))
      await writeJsonAtomic(join(repoRoot, PLOTS_DIR, file), roundAll(points));
    await writeJsonAtomic(join(repoRoot, DISTRIBUTIONS_FILE), distributions.result());

    // Row-level bootstrap intervals: the PR comment uses them to say whether a change is beyond noise.
    const ciMetrics: Record<string, (y: ArrayLike<number>, p: ArrayLike<number>) => number> =
      task === 'classification' ? { roc_auc: rocAuc, pr_auc: averagePrecision, log_loss: logLoss } : { mae, rmse, r2 };
    const testCi = multi
      ? roundAll(multi.testCi)
      : Object.fromEntries(
          Object.entries(bootstrapCis(y, p, ciMetrics))
            .filter((e): e is [string, [number, number]] => e[1] !== null)
            .map(([k, [low, high]]) => [k, { low: round(low), high: round(high) }] as const)
            .filter(
              (e): e is readonly [string, { low: number; high: number }] => e[1].low !== null && e[1].high !== null,
            ),
        );
    const base = bundle.golden[0]?.record ?? {};
    const edge = runEdgeCases(edgeCases(base, bundle.meta.input_schema), (records) => bundle.predictRecords(records));
    const latency = latencyMs(bundle, base);
    const primary = bundle.meta.primary_metric as PrimaryMetric;
    const result = {
      task,
      model_name: bundle.meta.name,
      candidate: bundle.meta.candidate,
      ...(task === 'classification' && !multi ? { threshold: round(threshold) } : {}),
      ...(classes ? { classes: Object.fromEntries(classes.map((c, i) => [c, i])) } : {}),
      rows_test: rowsTest,
      primary_metric: primary,
      higher_is_better: HIGHER_IS_BETTER[primary],
      test: roundAll(testMetrics),
      test_ci: testCi,
      baseline: roundAll(baseline),
      baseline_kind: baselines.kind,
      baseline_kinds: baselines.kinds,
      baseline_detail: roundAll(baselines.detail),
      ...(calibration ? { calibration: roundAll(calibration) } : {}),
      ...(intervals ? { intervals: roundAll(intervals) } : {}),
      edge_cases: edge,
      latency_ms: latency,
      golden_examples: { count: bundle.golden.length, reproduced: golden.ok },
    };
    await writeMetricsFile(repoRoot, 'evaluate', result);
    const headline = multi
      ? `accuracy ${multi.test.accuracy.toFixed(4)} (majority class ${multi.baseline.metrics.accuracy.toFixed(4)}), macro-F1 ${multi.test.macro_f1.toFixed(4)}, log loss ${multi.test.log_loss.toFixed(4)} (class prior ${multi.baseline.metrics.log_loss.toFixed(4)}), ECE ${multi.test.ece.toFixed(4)}`
      : task === 'classification'
        ? `ROC-AUC ${(testMetrics as { roc_auc: number }).roc_auc.toFixed(4)} (baseline 0.5)`
        : `RMSE ${(testMetrics as { rmse: number }).rmse.toFixed(3)} (baseline ${(baseline as { rmse: number }).rmse.toFixed(3)})`;
    log.info(
      `test ${headline} on ${rowsTest} rows; edge cases: ${edge.predicted} predicted, ${edge.rejected} rejected, ${edge.failed} failed; latency p95 ${latency.p95} ms`,
    );
    return result;
  } finally {
    bundle.dispose();
  }
}

if (isMain(import.meta.url)) {
  await runStage(evaluateStage, evaluate);
}
