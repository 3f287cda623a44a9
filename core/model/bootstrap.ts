/**
 * Percentile bootstrap confidence intervals for a metric on the test set: resample rows with
 * replacement (seeded, so every CI run gives the same interval) and take the 2.5 % and 97.5 %
 * quantiles of the metric over the resamples.
 *
 * The metrics (ROC-AUC, PR-AUC, log loss, errors) do not depend on row order, and the ranking
 * ones sort their rows by score, which dominated `evaluate` (a profile of the quick default: 22 %
 * of the process in this function, mostly sorting). So the rows are put in descending score order
 * once, and each resample's draws are emitted in that order by counting (O(n), no sort): the same
 * rows as drawing in the original order, and the metric's own sort then finds them sorted.
 */
import { seededRandom } from '../platform/random.ts';
import {
  averagePrecision,
  averagePrecisionOfCounts,
  rocAuc,
  rocAucOfCounts,
  thresholdCounts,
  type ThresholdCounts,
} from './quality-metrics.ts';

export function bootstrapCi<A extends ArrayLike<number>>(
  y: A,
  p: A,
  metric: (y: A | Float64Array, p: A | Float64Array) => number,
  options: { resamples?: number; seed?: number; maxRows?: number } = {},
): [number, number] | null {
  return bootstrapCis(y, p, { metric }, options).metric;
}

/**
 * bootstrapCi for several metrics over the same resamples: the same intervals as one call per
 * metric with the same seed, for one resampling pass (which was most of evaluate's bootstrap).
 */
export function bootstrapCis<K extends string, A extends ArrayLike<number> = ArrayLike<number>>(
  y: A,
  p: A,
  metrics: Record<K, (y: A | Float64Array, p: A | Float64Array) => number>,
  options: { resamples?: number; seed?: number; maxRows?: number } = {},
): Record<K, [number, number] | null> {
  const names = Object.keys(metrics) as K[];
  const n = y.length;
  if (n === 0) return Object.fromEntries(names.map((k) => [k, null])) as Record<K, null>;
  const random = seededRandom(options.seed ?? 12345);
  // Large test sets: each resample draws `m` rows (m ≤ maxRows) and the interval is widened back
  // to the full size by the usual √(m/n) scaling around the point estimate.
  const m = Math.min(n, options.maxRows ?? 50_000);
  const resamples = options.resamples ?? 200;
  const ys = new Float64Array(m);
  const ps = new Float64Array(m);
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  const rank = new Uint32Array(n);
  order.forEach((row, k) => (rank[row] = k));
  const counts = new Uint32Array(n);
  const values = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let b = 0; b < resamples; b++) {
    counts.fill(0);
    for (let i = 0; i < m; i++) counts[rank[Math.floor(random() * n)]]++;
    let i = 0;
    for (let k = 0; k < n; k++)
      for (let c = counts[k]; c > 0; c--) {
        ys[i] = y[order[k]];
        ps[i++] = p[order[k]];
      }
    // ROC-AUC and PR-AUC read the same threshold counts: made once per resample for both.
    let ranked: ThresholdCounts | undefined;
    for (const k of names) {
      const metric = metrics[k] as unknown;
      const v =
        metric === rocAuc
          ? rocAucOfCounts((ranked ??= thresholdCounts(ys, ps)))
          : metric === averagePrecision
            ? averagePrecisionOfCounts((ranked ??= thresholdCounts(ys, ps)))
            : metrics[k](ys, ps);
      if (Number.isFinite(v)) values[k].push(v);
    }
  }
  // The point estimate reads the inputs as they are: a copy would be 16 bytes per row of a large test set.
  const yAll = m < n ? y : ys;
  const pAll = m < n ? p : ps;
  const interval = (
    metric: (y: A | Float64Array, p: A | Float64Array) => number,
    vs: number[],
  ): [number, number] | null => {
    if (vs.length < resamples / 2) return null;
    vs.sort((a, b) => a - b);
    const q = (f: number) => vs[Math.min(vs.length - 1, Math.max(0, Math.round(f * (vs.length - 1))))];
    let lo = q(0.025),
      hi = q(0.975);
    if (m < n) {
      const point = metric(yAll, pAll);
      const scale = Math.sqrt(m / n);
      lo = point - (point - lo) * scale;
      hi = point + (hi - point) * scale;
    }
    return [lo, hi];
  };
  return Object.fromEntries(names.map((k) => [k, interval(metrics[k], values[k])])) as Record<
    K,
    [number, number] | null
  >;
}
