/**
 * Pure statistics of a load run: exact latency percentiles from the raw response times (autocannon's
 * own histogram rounds to whole milliseconds, too coarse for sub-millisecond answers) and the
 * per-second timeline that the charts draw.
 */

export interface LatencySummary {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sortedAscending: ArrayLike<number>, q: number): number {
  const n = sortedAscending.length;
  if (n === 0) return Number.NaN;
  const rank = Math.ceil((q / 100) * n);
  return sortedAscending[Math.min(n - 1, Math.max(0, rank - 1))];
}

export const round3 = (x: number): number => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x);

export function summarizeLatencies(latenciesMs: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    p50_ms: round3(percentile(sorted, 50)),
    p90_ms: round3(percentile(sorted, 90)),
    p99_ms: round3(percentile(sorted, 99)),
    max_ms: round3(sorted.length ? sorted[sorted.length - 1] : Number.NaN),
    mean_ms: round3(sorted.length ? sum / sorted.length : Number.NaN),
  };
}

/** One response or failure as the load generator saw it, `atMs` counted from the run's start. */
export interface ResponseEvent {
  atMs: number;
  latencyMs: number;
  status: number;
}

export interface SecondSample {
  /** Second of the run this sample covers: [t, t + 1). */
  t: number;
  /** Responses (any status) per second; the last, partial second is scaled to its real width. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
}

/**
 * Buckets responses (and connection errors, given as their times) into whole seconds. A final
 * bucket shorter than `minLastWidthS` is dropped: a rate over a sliver of a second is noise.
 */
export function timeline(
  events: readonly ResponseEvent[],
  errorTimesMs: readonly number[],
  durationS: number,
  minLastWidthS = 0.5,
): SecondSample[] {
  const seconds = Math.max(1, Math.ceil(durationS));
  const buckets = Array.from({ length: seconds }, () => ({ latencies: [] as number[], ok: 0, non2xx: 0, errors: 0 }));
  const at = (ms: number) => buckets[Math.min(seconds - 1, Math.max(0, Math.floor(ms / 1000)))];
  for (const e of events) {
    const b = at(e.atMs);
    b.latencies.push(e.latencyMs);
    if (e.status >= 200 && e.status < 300) b.ok++;
    else b.non2xx++;
  }
  for (const ms of errorTimesMs) at(ms).errors++;
  const out: SecondSample[] = [];
  buckets.forEach((b, t) => {
    const width = Math.min(1, durationS - t);
    if (t === seconds - 1 && t > 0 && width < minLastWidthS) return;
    const sorted = Float64Array.from(b.latencies).sort();
    out.push({
      t,
      rps: Math.round(b.latencies.length / Math.max(width, 1e-9)),
      ok: b.ok,
      non2xx: b.non2xx,
      errors: b.errors,
      p50_ms: round3(percentile(sorted, 50)),
      p99_ms: round3(percentile(sorted, 99)),
    });
  });
  return out;
}

/** Share of attempts that failed: non-2xx answers plus connection errors/timeouts. */
export function errorRate(r: { responses: number; non2xx: number; errors: number }): number {
  const attempts = r.responses + r.errors;
  return attempts === 0 ? 0 : (r.non2xx + r.errors) / attempts;
}

/** The middle value (the mean of the two middle ones for an even count, to 0.1); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : Math.round(((v[m - 1] + v[m]) / 2) * 10) / 10;
}
