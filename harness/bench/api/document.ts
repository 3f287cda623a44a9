/**
 * The JSON document `npm run bench:api` prints: the real API beside the trivial Koa reference, the
 * 100-instance batch, the cost of bearer auth, and each target with its verdict. Pure, so the
 * shape is tested without running servers for minutes.
 */
import { headline, type LoadResult } from './load.ts';
import { round3 } from './stats.ts';

export interface BenchTargets {
  /** Real API rps as a share of the trivial server's, same settings, same run. */
  ratioMin: number;
  /** Real API p99 as a multiple of the trivial server's. */
  p99RatioMax: number;
  /** Real API server CPU per request as a multiple of the trivial server's (when /proc tells). */
  cpuRatioMax: number;
  batch100P50MaxMs: number;
}

/** Within 15 % of the trivial server's rps, 1.5× its p99 and CPU per request, batch ≤ 2 ms. */
export const DEFAULT_TARGETS: BenchTargets = {
  ratioMin: 0.85,
  p99RatioMax: 1.5,
  cpuRatioMax: 1.5,
  batch100P50MaxMs: 2,
};

export interface TargetVerdict {
  value: number | null;
  target: string;
  pass: boolean;
}

const atMost = (value: number | null, max: number, unit = ''): TargetVerdict => ({
  value,
  target: `<= ${max}${unit}`,
  pass: value !== null && Number.isFinite(value) && value <= max,
});
const atLeast = (value: number | null, min: number): TargetVerdict => ({
  value,
  target: `>= ${min}`,
  pass: value !== null && Number.isFinite(value) && value >= min,
});

export interface BenchInputs {
  settings: Record<string, unknown>;
  machine: Record<string, unknown>;
  real: LoadResult;
  trivial: LoadResult;
  batch100: LoadResult | null;
  /**
   * The real API started again with API_TOKENS, loaded with the token; null when skipped.
   * `reference`: the trivial server sent the same requests (token header included), what the
   * auth ratios are taken against; without it they fall back on the plain trivial run.
   */
  auth: {
    result: LoadResult;
    reference?: LoadResult;
    enforced: boolean;
    unauthenticatedStatus: number | null;
  } | null;
  targets?: BenchTargets;
  /** Server CPU µs per request over the measured rounds; null where /proc cannot tell. */
  cpuUsPerRequest?: {
    real: number | null;
    trivial: number | null;
    auth: number | null;
    /** The trivial server under the auth rounds' requests. */
    trivialAuth?: number | null;
    generator?: number | null;
  };
  /** The API with WORKERS=n (BENCH_WORKERS), loaded in the same rounds; null when not asked for. */
  workers?: { count: number; result: LoadResult; cpuUsPerRequest: number | null } | null;
}

const ratioOf = (a: number | null | undefined, b: number | null | undefined) =>
  a !== null && a !== undefined && b !== null && b !== undefined && b > 0 ? round3(a / b) : null;

const pctChange = (from: number, to: number) => (from === 0 ? null : round3(((to - from) / from) * 100));

export function authCost(without: LoadResult, withAuth: LoadResult) {
  return {
    rps_change_pct: pctChange(without.rps, withAuth.rps),
    p50_added_ms: round3(withAuth.latency.p50_ms - without.latency.p50_ms),
    p99_added_ms: round3(withAuth.latency.p99_ms - without.latency.p99_ms),
  };
}

export function composeBenchDocument(input: BenchInputs) {
  const targets = input.targets ?? DEFAULT_TARGETS;
  const ratio = input.trivial.rps > 0 ? round3(input.real.rps / input.trivial.rps) : null;
  const batchP50 = input.batch100 ? input.batch100.latency.p50_ms : null;
  const p99Ratio = ratioOf(input.real.latency.p99_ms, input.trivial.latency.p99_ms);
  const cpu = input.cpuUsPerRequest ?? null;
  const cpuRatio = ratioOf(cpu?.real, cpu?.trivial);
  // Auth stays on in the measured configuration: the API with API_TOKENS is held to the same
  // targets, against the trivial server sent the same bytes when that was measured.
  const authRun = input.auth?.result;
  const authReference = input.auth?.reference ?? input.trivial;
  const authCpuReference = input.auth?.reference ? (cpu?.trivialAuth ?? null) : (cpu?.trivial ?? null);
  const authCpuRatio = ratioOf(cpu?.auth, authCpuReference);
  const verdicts = {
    ratio_real_vs_trivial_rps: atLeast(ratio, targets.ratioMin),
    ratio_real_vs_trivial_p99: atMost(p99Ratio, targets.p99RatioMax),
    ...(cpuRatio !== null ? { ratio_real_vs_trivial_cpu: atMost(cpuRatio, targets.cpuRatioMax) } : {}),
    ...(authRun
      ? {
          ratio_auth_vs_trivial_rps: atLeast(ratioOf(authRun.rps, authReference.rps), targets.ratioMin),
          ratio_auth_vs_trivial_p99: atMost(
            ratioOf(authRun.latency.p99_ms, authReference.latency.p99_ms),
            targets.p99RatioMax,
          ),
        }
      : {}),
    ...(authCpuRatio !== null ? { ratio_auth_vs_trivial_cpu: atMost(authCpuRatio, targets.cpuRatioMax) } : {}),
    batch100_p50_ms: atMost(batchP50, targets.batch100P50MaxMs, ' ms'),
  };
  const workers = input.workers;
  return {
    benchmark: 'api',
    settings: input.settings,
    machine: input.machine,
    real: headline(input.real),
    trivial: headline(input.trivial),
    ratio_real_vs_trivial_rps: ratio,
    ratio_real_vs_trivial_p99: p99Ratio,
    cpu_us_per_request: cpu && { ...cpu, ratio_real_vs_trivial: cpuRatio, ratio_auth_vs_trivial: authCpuRatio },
    workers: workers
      ? {
          count: workers.count,
          ...headline(workers.result),
          rps_vs_one_process: ratioOf(workers.result.rps, input.real.rps),
          rps_vs_trivial: ratioOf(workers.result.rps, input.trivial.rps),
          cpu_us_per_request: workers.cpuUsPerRequest,
        }
      : null,
    batch100: input.batch100 && {
      instances: 100,
      requests: input.batch100.responses,
      rps: input.batch100.rps,
      instances_per_s: input.batch100.rps * 100,
      p50_ms: input.batch100.latency.p50_ms,
      p99_ms: input.batch100.latency.p99_ms,
      non2xx: input.batch100.non2xx,
      errors: input.batch100.errors,
    },
    auth: input.auth && {
      enforced: input.auth.enforced,
      status_without_token: input.auth.unauthenticatedStatus,
      without: { rps: input.real.rps, p50_ms: input.real.latency.p50_ms, p99_ms: input.real.latency.p99_ms },
      trivial_with_token_header: input.auth.reference
        ? {
            rps: input.auth.reference.rps,
            p50_ms: input.auth.reference.latency.p50_ms,
            p99_ms: input.auth.reference.latency.p99_ms,
          }
        : null,
      with: {
        rps: input.auth.result.rps,
        p50_ms: input.auth.result.latency.p50_ms,
        p99_ms: input.auth.result.latency.p99_ms,
        non2xx: input.auth.result.non2xx,
        errors: input.auth.result.errors,
      },
      cost: authCost(input.real, input.auth.result),
      // What the header's bytes alone cost the server that does nothing with them.
      header_cost_on_trivial: input.auth.reference ? authCost(input.trivial, input.auth.reference) : null,
    },
    targets: verdicts,
    pass: Object.values(verdicts).every((v) => v.pass),
  };
}

export type BenchDocument = ReturnType<typeof composeBenchDocument>;
