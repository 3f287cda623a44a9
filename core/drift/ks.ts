/**
 * Two-sample Kolmogorov–Smirnov test. D is the largest gap between the two empirical CDFs.
 *
 * p-values: `exact` counts lattice paths (valid for continuous data without ties, as scipy's
 * ks_2samp method='exact'); `asymptotic` uses the Kolmogorov distribution with Stephens' (1970)
 * effective-n correction λ = (√nₑ + 0.12 + 0.11/√nₑ)·D, nₑ = nm/(n+m) (as in Numerical Recipes
 * §14.3). `auto` is exact when n·m ≤ 10,000 and asymptotic above.
 *
 * On binned counts D is only evaluated at the shared bin edges, so it is a lower bound of the
 * raw-sample D (equal when every value sits on an edge); the p-value is then asymptotic.
 */
import { checkSameLength, insufficient, sortedFinite, sum, type TestResult } from './result.ts';
import { clamp01, kolmogorovSurvival } from './special.ts';

export type KsMethod = 'auto' | 'exact' | 'asymptotic';
export const EXACT_MAX_PRODUCT = 10_000;

/** D of two samples; NaN values are ignored. Ties across samples are handled by stepping past equal values together. */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return ksSorted(sortedFinite(a), sortedFinite(b));
}

function ksSorted(x: Float64Array, y: Float64Array): number {
  const n = x.length,
    m = y.length;
  if (n === 0 || m === 0) return NaN;
  let i = 0,
    j = 0,
    d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i], y[j]);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return d;
}

export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>, method: KsMethod = 'auto'): TestResult {
  const x = sortedFinite(a),
    y = sortedFinite(b);
  if (x.length === 0 || y.length === 0)
    return insufficient(`KS needs values in both samples (reference ${x.length}, current ${y.length})`);
  const d = ksSorted(x, y);
  const exact = method === 'exact' || (method === 'auto' && x.length * y.length <= EXACT_MAX_PRODUCT);
  return {
    ok: true,
    statistic: d,
    pValue: exact ? ksExactPValue(d, x.length, y.length) : ksAsymptoticPValue(d, x.length, y.length),
  };
}

/** KS on counts over the same ordered bins (e.g. below-range, the reference histogram bins, above-range). */
export function ksBinned(reference: ArrayLike<number>, current: ArrayLike<number>): TestResult {
  checkSameLength(reference, current, 'KS on binned counts');
  const n = sum(reference),
    m = sum(current);
  if (n === 0 || m === 0) return insufficient(`KS needs counts in both windows (reference ${n}, current ${m})`);
  let cr = 0,
    cc = 0,
    d = 0;
  for (let k = 0; k < reference.length; k++) {
    cr += reference[k];
    cc += current[k];
    d = Math.max(d, Math.abs(cr / n - cc / m));
  }
  return { ok: true, statistic: d, pValue: ksAsymptoticPValue(d, n, m) };
}

export function ksAsymptoticPValue(d: number, n: number, m: number): number {
  if (d <= 0) return 1;
  const sqrtEn = Math.sqrt((n * m) / (n + m));
  return kolmogorovSurvival((sqrtEn + 0.12 + 0.11 / sqrtEn) * d);
}

/**
 * P(D ≥ d) under H0 for sample sizes n, m: 1 minus the share of monotone lattice paths from
 * (0,0) to (n,m) that never touch a point with |i/n − j/m| ≥ d. A uniformly random path is
 * walked with the without-replacement step probabilities, so no binomial coefficient overflows.
 */
export function ksExactPValue(d: number, n: number, m: number): number {
  if (d <= 0) return 1;
  // D·n·m is an integer (D = |i·m − j·n| / (n·m)); comparing integers avoids float ties.
  const limit = Math.round(d * n * m);
  const inside = (i: number, j: number) => Math.abs(i * m - j * n) < limit;
  let row = new Float64Array(m + 1); // row[j] = P(path reaches (i, j) staying inside)
  row[0] = 1;
  for (let j = 1; j <= m; j++) row[j] = inside(0, j) ? (row[j - 1] * (m - j + 1)) / (n + m - j + 1) : 0;
  for (let i = 1; i <= n; i++) {
    const next = new Float64Array(m + 1);
    for (let j = 0; j <= m; j++) {
      if (!inside(i, j)) continue;
      const left = n - (i - 1) + (m - j); // items remaining at (i-1, j)
      let p = (row[j] * (n - i + 1)) / left;
      if (j > 0) p += (next[j - 1] * (m - j + 1)) / (n - i + m - j + 1);
      next[j] = p;
    }
    row = next;
  }
  return clamp01(1 - row[m]);
}
