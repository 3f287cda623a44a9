/**
 * What `npm run bench:api:scaling` concludes from its slices: per worker count, req/s, CPU, how
 * often the quota held the group back, the speed-up over the fewest workers and its efficiency
 * (speed-up per core given: 1.0 is linear scaling), and whether the API's own prediction counter
 * (`/metrics`, the sum over workers) saw every answered request. Pure, so it is tested without
 * servers.
 */
import { round3 } from './stats.ts';

/** "1,2,4" → [1, 2, 4]: distinct positive integers, ascending; throws a sentence otherwise. */
export function parseWorkerCounts(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const counts = parts.map(Number);
  if (parts.some((p) => p === '') || counts.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`BENCH_SCALING_WORKERS=${text}: give worker counts as positive integers, e.g. 1,2,4`);
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** One worker count's totals over its slices. */
export interface ScalingTotals {
  workers: number;
  cores_given: number;
  wall_s: number;
  responses: number;
  cpu_s: number | null;
  periods: number;
  throttled: number;
  /** `model_predictions_total` grew by this much over the slices (null when /metrics did not say). */
  predictions_counted: number | null;
  p50_ms: number;
  p99_ms: number;
}

export interface ScalingRow {
  workers: number;
  cores_given: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu_us_per_request: number | null;
  /** CPU the group used over the wall time, in cores: at the quota when the quota is what limits. */
  cores_used: number | null;
  /** Share of enforcement periods in which the group hit its quota. */
  throttled_share: number | null;
  speedup: number;
  /** speed-up ÷ (cores given ÷ the first row's): 1.0 is linear in the cores. */
  efficiency: number;
  /** predictions counted by the API ÷ responses wrk received (in-flight requests at a slice's end make it a hair above 1). */
  counted_vs_answered: number | null;
}

export function summarizeScaling(totals: readonly ScalingTotals[]): ScalingRow[] {
  if (totals.length === 0) return [];
  const rpsOf = (t: ScalingTotals) => (t.wall_s > 0 ? t.responses / t.wall_s : 0);
  const first = totals[0];
  const firstRps = rpsOf(first);
  return totals.map((t) => {
    const rps = rpsOf(t);
    const speedup = firstRps > 0 ? rps / firstRps : 0;
    const coresRatio = t.cores_given / first.cores_given;
    return {
      workers: t.workers,
      cores_given: t.cores_given,
      rps: Math.round(rps),
      p50_ms: t.p50_ms,
      p99_ms: t.p99_ms,
      cpu_us_per_request: t.cpu_s !== null && t.responses > 0 ? Math.round((t.cpu_s / t.responses) * 1e7) / 10 : null,
      cores_used: t.cpu_s !== null && t.wall_s > 0 ? round3(t.cpu_s / t.wall_s) : null,
      throttled_share: t.periods > 0 ? round3(t.throttled / t.periods) : null,
      speedup: round3(speedup),
      efficiency: round3(speedup / coresRatio),
      counted_vs_answered:
        t.predictions_counted !== null && t.responses > 0 ? round3(t.predictions_counted / t.responses) : null,
    };
  });
}

/** True when every row serves more than the one before it: req/s grows with the cores given. */
export const growsWithCores = (rows: readonly ScalingRow[]): boolean =>
  rows.length > 1 && rows.every((r, i) => i === 0 || r.rps > rows[i - 1].rps);

/** Sum of a counter over its label sets in a Prometheus text exposition (null when absent). */
export function counterTotal(text: string, name: string): number | null {
  let total: number | null = null;
  const line = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`);
  for (const l of text.split('\n')) {
    const m = line.exec(l);
    if (m && Number.isFinite(Number(m[1]))) total = (total ?? 0) + Number(m[1]);
  }
  return total;
}
