/**
 * Wasserstein-1 (earth mover's) distance W₁ = ∫ |F(x) − G(x)| dx between two one-dimensional
 * distributions, from samples or from counts over shared bin edges. Drift decisions use it
 * divided by the reference standard deviation, so one threshold fits every feature's units.
 */
import { checkSameLength, insufficient, sum, type TestResult } from './result.ts';

/** Floor on the normalising standard deviation: a constant reference column must not divide by 0. */
export const MIN_NORMALISING_STD = 1e-3;

/** W₁ between samples u and v, optionally weighted (scipy.stats.wasserstein_distance semantics). Non-finite values are ignored. */
export function wassersteinSamples(
  u: ArrayLike<number>,
  v: ArrayLike<number>,
  uWeights?: ArrayLike<number>,
  vWeights?: ArrayLike<number>,
): TestResult {
  const a = weighted(u, uWeights),
    b = weighted(v, vWeights);
  if (a.total === 0 || b.total === 0)
    return insufficient(`Wasserstein needs values in both samples (reference ${a.total}, current ${b.total})`);
  const points = Float64Array.from([...a.values, ...b.values]).sort();
  let i = 0,
    j = 0,
    cu = 0,
    cv = 0,
    distance = 0;
  for (let k = 0; k < points.length - 1; k++) {
    const x = points[k];
    while (i < a.values.length && a.values[i] <= x) cu += a.weights[i++];
    while (j < b.values.length && b.values[j] <= x) cv += b.weights[j++];
    distance += Math.abs(cu / a.total - cv / b.total) * (points[k + 1] - x);
  }
  return { ok: true, statistic: distance };
}

function weighted(
  values: ArrayLike<number>,
  weights?: ArrayLike<number>,
): { values: number[]; weights: number[]; total: number } {
  if (weights && weights.length !== values.length)
    throw new Error(`Wasserstein: ${values.length} values but ${weights.length} weights`);
  const pairs: [number, number][] = [];
  for (let i = 0; i < values.length; i++) {
    const w = weights ? weights[i] : 1;
    if (w < 0) throw new Error(`Wasserstein: weight ${i} is negative (${w}); weights must be ≥ 0`);
    if (Number.isFinite(values[i]) && w > 0) pairs.push([values[i], w]);
  }
  pairs.sort((p, q) => p[0] - q[0]);
  return {
    values: pairs.map((p) => p[0]),
    weights: pairs.map((p) => p[1]),
    total: pairs.reduce((s, p) => s + p[1], 0),
  };
}

/**
 * Where the out-of-range mass sits. Without it the mass below the first edge is put on the first
 * edge (and above on the last), which makes the distance a lower bound; with the mean of those
 * values the contribution of the out-of-range region is exact, because the reference CDF is 0
 * below its first edge and 1 above its last.
 */
export interface OuterMeans {
  below?: number;
  above?: number;
}

/**
 * W₁ between counts over `edges` laid out as [below, bin₀ … bin_{K−1}, above] (K + 2 entries
 * for K + 1 edges). Mass inside a bin is spread uniformly over it, so each CDF is piecewise
 * linear and the area between them is integrated exactly per bin.
 */
export function wassersteinBinned(
  edges: ArrayLike<number>,
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  outer: { reference?: OuterMeans; current?: OuterMeans } = {},
): TestResult {
  checkSameLength(reference, current, 'Wasserstein on binned counts');
  if (reference.length !== edges.length + 1)
    throw new Error(
      `Wasserstein on binned counts: ${edges.length} edges need ${edges.length + 1} counts [below, bins…, above], got ${reference.length}`,
    );
  const nr = sum(reference),
    nc = sum(current);
  if (nr === 0 || nc === 0)
    return insufficient(`Wasserstein needs counts in both windows (reference ${nr}, current ${nc})`);
  const k = edges.length - 1;
  const first = edges[0],
    last = edges[k];
  // Outside the edges one CDF side is constant: area = |F_r − F_c| there × distance to the mass centre.
  const belowGap = (n: number, count: number, mean = first) => ({ share: count / n, width: Math.max(0, first - mean) });
  const aboveGap = (n: number, count: number, mean = last) => ({ share: count / n, width: Math.max(0, mean - last) });
  let distance = 0;
  for (const [r, c] of [
    [belowGap(nr, reference[0], outer.reference?.below), belowGap(nc, current[0], outer.current?.below)],
    [aboveGap(nr, reference[k + 1], outer.reference?.above), aboveGap(nc, current[k + 1], outer.current?.above)],
  ]) {
    distance += areaBetweenSteps(r.share, r.width, c.share, c.width);
  }
  let fr = reference[0] / nr,
    fc = current[0] / nc;
  for (let b = 0; b < k; b++) {
    const gr = fr + reference[b + 1] / nr,
      gc = fc + current[b + 1] / nc;
    distance += (edges[b + 1] - edges[b]) * areaUnderAbsLine(fr - fc, gr - gc);
    fr = gr;
    fc = gc;
  }
  return { ok: true, statistic: distance };
}

/**
 * Area between two CDFs outside the edges when each window's out-of-range mass is a point at its
 * own distance from the edge: the CDF difference there is a step function.
 */
function areaBetweenSteps(shareR: number, widthR: number, shareC: number, widthC: number): number {
  const [near, far] =
    widthR <= widthC
      ? [
          { s: shareR, w: widthR },
          { s: shareC, w: widthC },
        ]
      : [
          { s: shareC, w: widthC },
          { s: shareR, w: widthR },
        ];
  // From the edge out to the nearer mass both CDFs hold their share; beyond it only the farther one does.
  return Math.abs(shareR - shareC) * near.w + far.s * (far.w - near.w);
}

/** ∫₀¹ |a + (b − a)t| dt: the mean absolute value of a line from a to b. */
function areaUnderAbsLine(a: number, b: number): number {
  if (a * b >= 0) return Math.abs(a + b) / 2;
  return (a * a + b * b) / (2 * (Math.abs(a) + Math.abs(b)));
}

/** W₁ divided by the reference standard deviation (floored at MIN_NORMALISING_STD). */
export function normaliseByStd(result: TestResult, referenceStd: number): TestResult {
  if (!result.ok) return result;
  const std = Number.isFinite(referenceStd) ? Math.max(referenceStd, MIN_NORMALISING_STD) : MIN_NORMALISING_STD;
  return { ok: true, statistic: result.statistic / std };
}

/** Population standard deviation (ddof = 0, as numpy's default) of the finite values. */
export function populationStd(values: ArrayLike<number>): number {
  let n = 0,
    mean = 0,
    m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    n++;
    const delta = v - mean;
    mean += delta / n;
    m2 += delta * (v - mean);
  }
  return n ? Math.sqrt(m2 / n) : NaN;
}
