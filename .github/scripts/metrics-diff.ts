/**
 * This run's test metrics against a reference (the base branch's `metrics/evaluate.json`, or the
 * production model re-scored in `metrics/register.json`), with a bootstrap confidence interval
 * so a reviewer can tell a real change from test-set noise.
 *
 * Per-row test predictions are not kept in git, so the interval is computed from the confusion
 * matrix: the four cells are resampled as one multinomial draw of the same test-set size (the
 * usual bootstrap over rows, collapsed to the only thing threshold metrics depend on). That covers
 * accuracy, precision, recall and F1; ranking metrics (ROC-AUC, PR-AUC) and log loss need the
 * scores themselves and get no interval.
 */
import { seededRandom } from '../../core/platform/random.ts';
import { metricDirection } from '../../core/schemas/metric-directions.ts';
import type { Confusion } from '../../core/model/quality-metrics.ts';
import {
  EVALUATE_METRICS,
  REGISTER_METRICS,
  confusionOf,
  parseMetrics,
  readMetrics,
  type EvaluateFile,
  type RegisterFile,
} from '../../core/schemas/metrics-files.ts';

export type { Confusion };
export type MetricValues = Record<string, number>;

export interface EvalSummary {
  primaryMetric: string;
  test: MetricValues;
  confusion: Confusion | null;
  /** Bootstrap intervals computed on the test rows by the evaluate stage, when present. */
  ci?: Record<string, [number, number]>;
  rows: number | null;
}

export interface DiffRow {
  metric: string;
  base: number | null;
  current: number;
  delta: number | null;
  direction: 'up' | 'down' | 'same' | null;
  /** Whether the move is good for this metric; null when unchanged or nothing to compare. */
  better: boolean | null;
  ci: [number, number] | null;
  /** The reference value lies outside this run's 95% interval; null when there is no interval. */
  beyondNoise: boolean | null;
}

const NOT_METRICS = new Set(['threshold']);
/** From the one table of directions (core/schemas/metric-directions.ts); names that are no metric count as higher-is-better. */
export const higherIsBetter = (metric: string) => metricDirection(metric) !== 'lower';

/** What the diff needs from an `evaluate.json` (parsed by its schema, core/schemas/metrics-files.ts). */
export function summarizeEvaluate(ev: EvaluateFile): EvalSummary {
  const test: MetricValues = {};
  for (const [k, v] of Object.entries(ev.test)) if (typeof v === 'number' && !NOT_METRICS.has(k)) test[k] = v;
  // Row-level bootstrap intervals written by the evaluate stage (threshold-free metrics such as ROC-AUC).
  return {
    primaryMetric: ev.primary_metric,
    test,
    confusion: confusionOf(ev.test),
    rows: ev.rows_test,
    ci: { ...ev.test_ci },
  };
}

export function metricsFromConfusion({ tp, fp, tn, fn }: Confusion): MetricValues {
  const n = tp + fp + tn + fn;
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return {
    accuracy: n ? (tp + tn) / n : 0,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
  };
}

/**
 * One Binomial(n, p) draw: exact CDF inversion when the expected count is small, else the normal
 * approximation (its error is far below the bootstrap's own Monte-Carlo error at those sizes).
 */
export function binomial(n: number, p: number, rand: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (Math.min(mean, n - mean) >= 25) {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    return Math.min(n, Math.max(0, Math.round(mean + z * Math.sqrt(mean * (1 - p)))));
  }
  if (mean > n - mean) return n - binomial(n, 1 - p, rand);
  let k = 0;
  let pmf = Math.pow(1 - p, n);
  let cdf = pmf;
  const u = rand();
  while (u > cdf && k < n) {
    pmf *= ((n - k) / (k + 1)) * (p / (1 - p));
    k++;
    cdf += pmf;
  }
  return k;
}

/** Resample the four cells as Multinomial(n, cells/n), by conditional binomials. */
export function resampleConfusion(c: Confusion, rand: () => number): Confusion {
  const n = c.tp + c.fp + c.tn + c.fn;
  let left = n;
  let mass = 1;
  const out = [0, 0, 0, 0];
  const cells = [c.tp, c.fp, c.tn, c.fn];
  for (let i = 0; i < 3; i++) {
    const p = n ? cells[i] / n : 0;
    out[i] = mass > 0 ? binomial(left, Math.min(1, p / mass), rand) : 0;
    left -= out[i];
    mass -= p;
  }
  out[3] = left;
  return { tp: out[0], fp: out[1], tn: out[2], fn: out[3] };
}

export interface BootstrapOptions {
  samples?: number;
  seed?: number;
  level?: number;
}

/** Percentile intervals for accuracy, precision, recall and F1. */
export function bootstrapConfusionCI(c: Confusion, opts: BootstrapOptions = {}): Record<string, [number, number]> {
  const samples = opts.samples ?? 2000;
  const level = opts.level ?? 0.95;
  const rand = seededRandom(opts.seed ?? 20260101);
  const draws: Record<string, number[]> = {};
  for (let s = 0; s < samples; s++) {
    for (const [k, v] of Object.entries(metricsFromConfusion(resampleConfusion(c, rand)))) (draws[k] ??= []).push(v);
  }
  const out: Record<string, [number, number]> = {};
  const lo = (1 - level) / 2;
  for (const [k, xs] of Object.entries(draws)) {
    xs.sort((a, b) => a - b);
    const at = (q: number) => xs[Math.min(xs.length - 1, Math.max(0, Math.floor(q * xs.length)))];
    out[k] = [at(lo), at(1 - lo)];
  }
  return out;
}

const EPS = 5e-7; // metrics are written with 6 decimals

/** Rows for every metric of `current`, primary first; `base` may be null (nothing to compare). */
export function diffMetrics(
  current: EvalSummary,
  base: Readonly<Record<string, unknown>> | null,
  ci: Record<string, [number, number]> = {},
): DiffRow[] {
  const names = Object.keys(current.test).sort(
    (a, b) => Number(b === current.primaryMetric) - Number(a === current.primaryMetric),
  );
  return names.map((metric) => {
    const cur = current.test[metric];
    const value = base?.[metric];
    const b = typeof value === 'number' ? value : null;
    const delta = b === null ? null : cur - b;
    const direction = delta === null ? null : Math.abs(delta) < EPS ? 'same' : delta > 0 ? 'up' : 'down';
    const better = direction === null || direction === 'same' ? null : (direction === 'up') === higherIsBetter(metric);
    const interval = ci[metric] ?? null;
    const beyondNoise = interval && b !== null ? b < interval[0] - EPS || b > interval[1] + EPS : null;
    return { metric, base: b, current: cur, delta, direction, better, ci: interval, beyondNoise };
  });
}

export type Runner = (cmd: string, args: string[], opts?: { cwd?: string }) => Promise<string>;

export interface BaseSource {
  dir?: string;
  ref?: string;
  cwd?: string;
  run?: Runner;
}

/**
 * The base branch's evaluate.json: from a checked-out metrics directory, else `git show
 * <ref>:metrics/evaluate.json`. Null when the base has none (first model on that branch); a
 * malformed one fails naming the file and field.
 */
export async function readBaseEvaluate(src: BaseSource): Promise<EvalSummary | null> {
  if (src.dir) {
    const ev = await readMetrics('evaluate', { dir: src.dir });
    return ev && summarizeEvaluate(ev);
  }
  if (!src.ref || !src.run) return null;
  const where = `${src.ref}:${EVALUATE_METRICS}`;
  let text: string;
  try {
    text = await src.run('git', ['show', where], { cwd: src.cwd });
  } catch {
    return null;
  }
  return summarizeEvaluate(parseMetrics('evaluate', { text: text, where: where }));
}

/** The production model as the base branch's last register run recorded it, with its test metrics. */
export interface BaseProduction {
  version: number;
  metrics: Record<string, unknown>;
  /** Rows those metrics were measured on (the base's test set). */
  rows: number | null;
}

/**
 * Production as the base branch knows it, for a run that cannot read the registry (a pull
 * request): when the base's last register run promoted, production is that run's model and its
 * test metrics are the base's; otherwise production is the one it compared with, scored on the
 * same rows (`production_before`). Null when the base records no production model.
 */
export async function readBaseProduction(src: BaseSource, base: EvalSummary | null): Promise<BaseProduction | null> {
  let reg: RegisterFile | null = null;
  if (src.dir) reg = await readMetrics('register', { dir: src.dir });
  else if (src.ref && src.run) {
    const where = `${src.ref}:${REGISTER_METRICS}`;
    const text = await src.run('git', ['show', where], { cwd: src.cwd }).catch(() => null);
    reg = text === null ? null : parseMetrics('register', { text, where });
  }
  if (!reg || !base) return null;
  if (reg.decision === 'promoted') return { version: reg.version, metrics: base.test, rows: base.rows };
  const before = reg.production_before;
  return before?.version && before.metrics
    ? { version: before.version, metrics: before.metrics, rows: base.rows }
    : null;
}
