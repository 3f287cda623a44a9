/**
 * One closed-loop load run with autocannon's programmatic API: `connections` clients, each sending
 * the same request back-to-back. Besides autocannon's totals it keeps every response time (float
 * milliseconds) and its moment, for exact percentiles and the per-second timeline.
 */
import autocannon from 'autocannon';
import {
  errorRate,
  round3,
  summarizeLatencies,
  timeline,
  type LatencySummary,
  type ResponseEvent,
  type SecondSample,
} from './stats.ts';

export interface LoadOptions {
  url: string;
  path: string;
  method?: 'GET' | 'POST';
  body?: string;
  /** Bodies sent in turn instead of `body` (different records); `body` still sets the content type. */
  bodies?: string[];
  headers?: Record<string, string>;
  connections: number;
  /** Run this long (seconds). Ignored when `amount` is set. */
  durationS?: number;
  /** Stop after this many responses. */
  amount?: number;
  /** Hard stop (seconds) whatever `amount` says, so a slow server cannot stretch the run. */
  deadlineS?: number;
  /** Per-request timeout, seconds. */
  timeoutS?: number;
}

export interface LoadResult {
  connections: number;
  duration_s: number;
  /** Responses of any status. */
  responses: number;
  ok: number;
  non2xx: number;
  /** Connection errors and timeouts (no response at all). */
  errors: number;
  timeouts: number;
  error_rate: number;
  /** Responses per second over the measured duration. */
  rps: number;
  latency: LatencySummary;
  status_codes: Record<string, number>;
  timeline: SecondSample[];
  /** Every response time, for exact percentiles over merged runs; not part of any report. */
  samples_ms: Float64Array;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const events: ResponseEvent[] = [];
  const errorTimes: number[] = [];
  const t0 = performance.now();
  let lastAt = 0;
  let deadline: NodeJS.Timeout | undefined;

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url + options.path,
        method: options.method ?? 'POST',
        body: options.body,
        headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
        // Each connection sends the bodies in turn, from the first again after the last.
        ...(options.bodies?.length ? { requests: options.bodies.map((body) => ({ body })) } : {}),
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 10 }),
        timeout: options.timeoutS ?? 10,
        // Stop checks run every sampleInt; 100 ms keeps an `amount` run from idling up to 1 s.
        sampleInt: 100,
      },
      // autocannon types `err` as any; it is an Error whenever set.
      (err: Error | null, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      lastAt = performance.now() - t0;
      events.push({ atMs: lastAt, latencyMs: responseTime, status: statusCode });
    });
    instance.on('reqError', () => errorTimes.push(performance.now() - t0));
    if (options.deadlineS) deadline = setTimeout(() => instance.stop(), options.deadlineS * 1000);
  }).finally(() => clearTimeout(deadline));

  // Measured to the last answer: autocannon's own duration ends on its next sampling tick.
  const durationS = Math.max(lastAt, errorTimes.at(-1) ?? 0) / 1000 || result.duration;
  const ok = events.reduce((n, e) => n + (e.status >= 200 && e.status < 300 ? 1 : 0), 0);
  const statusCodes: Record<string, number> = {};
  for (const e of events) statusCodes[e.status] = (statusCodes[e.status] ?? 0) + 1;
  const counts = { responses: events.length, non2xx: events.length - ok, errors: result.errors };
  return {
    connections: options.connections,
    duration_s: round3(durationS),
    responses: events.length,
    ok,
    non2xx: counts.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    error_rate: Number(errorRate(counts).toPrecision(4)),
    rps: Math.round(events.length / Math.max(durationS, 1e-9)),
    latency: summarizeLatencies(events.map((e) => e.latencyMs)),
    status_codes: statusCodes,
    timeline: timeline(events, errorTimes, durationS),
    samples_ms: Float64Array.from(events, (e) => e.latencyMs),
  };
}

/** Several runs against the same target (interleaved rounds) as one result. */
export function mergeLoadResults(runs: readonly LoadResult[]): LoadResult {
  if (runs.length === 0) throw new Error('mergeLoadResults: no runs');
  const sum = (f: (r: LoadResult) => number) => runs.reduce((n, r) => n + f(r), 0);
  const samples = new Float64Array(sum((r) => r.samples_ms.length));
  let offset = 0;
  for (const r of runs) {
    samples.set(r.samples_ms, offset);
    offset += r.samples_ms.length;
  }
  const statusCodes: Record<string, number> = {};
  for (const r of runs)
    for (const [code, n] of Object.entries(r.status_codes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  let t = 0;
  const merged: SecondSample[] = [];
  for (const r of runs) {
    for (const s of r.timeline) merged.push({ ...s, t: t + s.t });
    t += r.timeline.length;
  }
  const durationS = sum((r) => r.duration_s);
  const counts = { responses: sum((r) => r.responses), non2xx: sum((r) => r.non2xx), errors: sum((r) => r.errors) };
  return {
    connections: runs[0].connections,
    duration_s: round3(durationS),
    ...counts,
    ok: sum((r) => r.ok),
    timeouts: sum((r) => r.timeouts),
    error_rate: Number(errorRate(counts).toPrecision(4)),
    rps: Math.round(counts.responses / Math.max(durationS, 1e-9)),
    latency: summarizeLatencies(samples),
    status_codes: statusCodes,
    timeline: merged,
    samples_ms: samples,
  };
}

/** The headline figures of a run, for JSON documents that should not carry whole timelines. */
export function headline(r: LoadResult) {
  return {
    connections: r.connections,
    duration_s: r.duration_s,
    requests: r.responses,
    rps: r.rps,
    p50_ms: r.latency.p50_ms,
    p90_ms: r.latency.p90_ms,
    p99_ms: r.latency.p99_ms,
    max_ms: r.latency.max_ms,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    error_rate: r.error_rate,
    status_codes: r.status_codes,
  };
}
