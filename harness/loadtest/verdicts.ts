/**
 * The decisions of the load test, pure so they are tested on made-up figures:
 * - the seeds' scenario (≥ 50,000 successful predictions within 45 s, error rate ≤ 0.1 %);
 * - the ramp: which concurrency to try next (double until the SLO breaks, then bisect between the
 *   last level that held and the first that did not), and which level is "max users".
 */

export interface ScenarioPolicy {
  requests: number;
  windowS: number;
  maxErrorRate: number;
}

export const DEFAULT_SCENARIO: ScenarioPolicy = { requests: 50_000, windowS: 45, maxErrorRate: 0.001 };

export interface ScenarioFigures {
  ok: number;
  duration_s: number;
  error_rate: number;
}

export interface Check {
  value: number;
  target: string;
  pass: boolean;
}

export function scenarioVerdict(r: ScenarioFigures, policy: ScenarioPolicy = DEFAULT_SCENARIO) {
  const checks = {
    successful_requests: { value: r.ok, target: `>= ${policy.requests}`, pass: r.ok >= policy.requests },
    duration_s: { value: r.duration_s, target: `<= ${policy.windowS}`, pass: r.duration_s <= policy.windowS },
    error_rate: { value: r.error_rate, target: `<= ${policy.maxErrorRate}`, pass: r.error_rate <= policy.maxErrorRate },
  } satisfies Record<string, Check>;
  return { pass: Object.values(checks).every((c) => c.pass), checks };
}

export interface RampPolicy {
  sloP99Ms: number;
  maxErrorRate: number;
  /** First concurrency level. */
  start: number;
  /** Highest level the ramp may try. */
  max: number;
  /** Bisection steps between the last level that held and the first that failed. */
  refineSteps: number;
}

export const DEFAULT_RAMP: RampPolicy = { sloP99Ms: 25, maxErrorRate: 0.001, start: 1, max: 1024, refineSteps: 2 };

export interface LevelFigures {
  connections: number;
  responses: number;
  p99_ms: number;
  error_rate: number;
}

export type LevelOutcome = 'held' | 'slo_p99' | 'errors' | 'no_responses';

export function levelOutcome(level: LevelFigures, policy: RampPolicy): LevelOutcome {
  if (level.responses === 0) return 'no_responses';
  if (level.error_rate > policy.maxErrorRate) return 'errors';
  if (!(level.p99_ms <= policy.sloP99Ms)) return 'slo_p99';
  return 'held';
}

/** Largest level that held below the lowest level that failed, and that failure. */
function bounds<T extends LevelFigures>(levels: readonly T[], policy: RampPolicy) {
  const failed = levels.filter((l) => levelOutcome(l, policy) !== 'held');
  const lowestFailed = failed.reduce<T | null>(
    (low, l) => (low === null || l.connections < low.connections ? l : low),
    null,
  );
  const ceiling = lowestFailed?.connections ?? Number.POSITIVE_INFINITY;
  const held = levels.filter((l) => levelOutcome(l, policy) === 'held' && l.connections < ceiling);
  const best = held.reduce<T | null>((top, l) => (top === null || l.connections > top.connections ? l : top), null);
  return { best, lowestFailed };
}

/** The next concurrency to try given the levels measured so far (in the order run), or null to stop. */
export function nextLevel(levels: readonly LevelFigures[], policy: RampPolicy = DEFAULT_RAMP): number | null {
  if (levels.length === 0) return policy.start;
  const firstFailure = levels.findIndex((l) => levelOutcome(l, policy) !== 'held');
  if (firstFailure === -1) {
    const top = Math.max(...levels.map((l) => l.connections));
    return top >= policy.max ? null : Math.min(top * 2, policy.max);
  }
  const refinementsDone = levels.length - firstFailure - 1;
  if (refinementsDone >= policy.refineSteps) return null;
  const { best, lowestFailed } = bounds(levels, policy);
  if (!best || !lowestFailed) return null;
  const mid = Math.floor((best.connections + lowestFailed.connections) / 2);
  return mid > best.connections && mid < lowestFailed.connections ? mid : null;
}

export interface MaxUsers {
  /** Concurrent connections (closed loop, no think time) the API served within the SLO; 0 if none. */
  max_users: number;
  rps_at_max: number | null;
  p99_at_max_ms: number | null;
  /**
   * What stopped the ramp above max_users: the failing level's reason, `ramp_max` when nothing failed
   * up to the highest level allowed, `time_budget` when the ramp ran out of time first.
   */
  limited_by: Exclude<LevelOutcome, 'held'> | 'ramp_max' | 'time_budget';
  first_failed: number | null;
}

export function maxUsers<T extends LevelFigures & { rps: number }>(
  levels: readonly T[],
  policy: RampPolicy = DEFAULT_RAMP,
  outOfTime = false,
): MaxUsers {
  const { best, lowestFailed } = bounds(levels, policy);
  return {
    max_users: best?.connections ?? 0,
    rps_at_max: best?.rps ?? null,
    p99_at_max_ms: best?.p99_ms ?? null,
    limited_by: lowestFailed
      ? (levelOutcome(lowestFailed, policy) as Exclude<LevelOutcome, 'held'>)
      : outOfTime
        ? 'time_budget'
        : 'ramp_max',
    first_failed: lowestFailed?.connections ?? null,
  };
}
