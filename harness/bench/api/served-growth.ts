/**
 * The verdict of `npm run bench:served`: does a request cost more once the API has served many
 * predictions? Each checkpoint loads the real API and the trivial server alike, so the real
 * API's share of the trivial server's throughput is compared between the first checkpoint and the
 * last (a noisy neighbour weighs on both), and so is the 100-instance batch p50. Pure.
 */
import { round3 } from './stats.ts';

export interface Checkpoint {
  /** Predictions the API had served when this checkpoint's measurement began. */
  served: number;
  real_rps: number;
  trivial_rps: number;
  batch100_p50_ms: number | null;
}

export interface GrowthTargets {
  /** Most the real/trivial throughput ratio may shrink, first → last checkpoint (2: halved). */
  slowdownMax: number;
  /** Most the batch-100 p50 may grow, first → last checkpoint. */
  batchGrowthMax: number;
}

export const DEFAULT_GROWTH_TARGETS: GrowthTargets = { slowdownMax: 2, batchGrowthMax: 2 };

export interface GrowthVerdict {
  checkpoints: (Checkpoint & { ratio: number | null })[];
  /** (real/trivial at the first checkpoint) ÷ (real/trivial at the last): 1 means no change. */
  slowdown: { value: number | null; target: string; pass: boolean };
  /** batch-100 p50 at the last checkpoint ÷ at the first. */
  batch_growth: { value: number | null; target: string; pass: boolean };
  pass: boolean;
}

const ratioOf = (c: Checkpoint) => (c.trivial_rps > 0 ? c.real_rps / c.trivial_rps : null);
const quotient = (a: number | null, b: number | null) =>
  a !== null && b !== null && b > 0 && Number.isFinite(a / b) ? round3(a / b) : null;
const atMost = (value: number | null, max: number) => ({
  value,
  target: `<= ${max}`,
  pass: value !== null && value <= max,
});

export function servedGrowth(
  points: readonly Checkpoint[],
  targets: GrowthTargets = DEFAULT_GROWTH_TARGETS,
): GrowthVerdict {
  if (points.length < 2)
    throw new Error(
      `bench:served needs at least 2 checkpoints to compare, got ${points.length}; set BENCH_CHECKPOINTS to e.g. 0,200000,500000`,
    );
  const first = points[0];
  const last = points[points.length - 1];
  const slowdown = atMost(quotient(ratioOf(first), ratioOf(last)), targets.slowdownMax);
  const batchGrowth = atMost(quotient(last.batch100_p50_ms, first.batch100_p50_ms), targets.batchGrowthMax);
  return {
    checkpoints: points.map((c) => ({ ...c, ratio: ratioOf(c) === null ? null : round3(ratioOf(c)!) })),
    slowdown,
    batch_growth: batchGrowth,
    pass: slowdown.pass && batchGrowth.pass,
  };
}

/** `BENCH_CHECKPOINTS` ("0,200000,500000"): ascending whole numbers of predictions served. */
export function parseCheckpoints(raw: string | undefined, fallback: readonly number[]): number[] {
  if (raw === undefined || raw.trim() === '') return [...fallback];
  const values = raw.split(',').map((s) => Number(s.trim()));
  const bad = values.findIndex((v, i) => !Number.isInteger(v) || v < 0 || (i > 0 && v <= values[i - 1]));
  if (bad >= 0)
    throw new Error(
      `BENCH_CHECKPOINTS=${raw}: entry ${bad + 1} is not a whole number ≥ 0 above the one before it; write ascending counts like 0,200000,500000`,
    );
  if (values.length < 2) throw new Error(`BENCH_CHECKPOINTS=${raw}: give at least 2 checkpoints to compare`);
  return values;
}
