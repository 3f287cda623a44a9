/**
 * Distances between two distributions given as counts over the same bins or categories:
 * population stability index and Jensen–Shannon distance.
 */
import { checkSameLength, insufficient, sum, type TestResult } from './result.ts';

/**
 * Share used in place of an empty bin's 0 so ln(p/q) stays finite. 1e-4 is the convention of
 * Evidently's PSI (a bin holding one row in 10,000); it bounds one empty bin's contribution to
 * about (share)·ln(share / 1e-4).
 */
export const PSI_EPSILON = 1e-4;

/** PSI = Σ (cᵢ − rᵢ)·ln(cᵢ / rᵢ) over bin shares; 0 for identical shares, symmetric in its arguments. */
export function populationStabilityIndex(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  epsilon = PSI_EPSILON,
): TestResult {
  checkSameLength(reference, current, 'PSI');
  const nr = sum(reference),
    nc = sum(current);
  if (nr === 0 || nc === 0) return insufficient(`PSI needs counts in both windows (reference ${nr}, current ${nc})`);
  let psi = 0;
  for (let k = 0; k < reference.length; k++) {
    const r = reference[k] / nr || epsilon;
    const c = current[k] / nc || epsilon;
    psi += (c - r) * Math.log(c / r);
  }
  return { ok: true, statistic: psi };
}

/**
 * Jensen–Shannon distance: √JSD with JSD = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2, logarithm in
 * `base` (2 by default, which bounds the distance to [0, 1]). Same definition as
 * scipy.spatial.distance.jensenshannon. Empty bins need no epsilon: 0·ln 0 is taken as 0 and m
 * is positive wherever p or q is.
 */
export function jensenShannonDistance(reference: ArrayLike<number>, current: ArrayLike<number>, base = 2): TestResult {
  checkSameLength(reference, current, 'Jensen–Shannon');
  const nr = sum(reference),
    nc = sum(current);
  if (nr === 0 || nc === 0)
    return insufficient(`Jensen–Shannon needs counts in both windows (reference ${nr}, current ${nc})`);
  let divergence = 0;
  for (let k = 0; k < reference.length; k++) {
    const p = reference[k] / nr,
      q = current[k] / nc;
    const m = (p + q) / 2;
    if (p > 0) divergence += 0.5 * p * Math.log(p / m);
    if (q > 0) divergence += 0.5 * q * Math.log(q / m);
  }
  // Rounding can leave a tiny negative divergence for identical inputs.
  return { ok: true, statistic: Math.sqrt(Math.max(0, divergence / Math.log(base))) };
}
