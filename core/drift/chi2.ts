/**
 * Pearson's chi-squared test of homogeneity on a 2×k table (reference counts vs current counts
 * per category). Expected counts come from the pooled column totals, so a category the
 * reference never saw (reference 0, current > 0) still has a positive expectation and simply
 * adds to the statistic. Categories empty in both windows are dropped before counting degrees of
 * freedom (df = kept categories − 1). No Yates continuity correction (scipy's chi2_contingency
 * only applies it when df = 1; Evidently does not).
 */
import { checkSameLength, insufficient, sum, type TestResult } from './result.ts';
import { chiSquaredSurvival } from './special.ts';

export function chiSquaredHomogeneity(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): TestResult & { df?: number } {
  checkSameLength(reference, current, 'chi-squared');
  const nr = sum(reference),
    nc = sum(current);
  if (nr === 0 || nc === 0)
    return insufficient(`chi-squared needs counts in both windows (reference ${nr}, current ${nc})`);
  const total = nr + nc;
  let statistic = 0,
    kept = 0;
  for (let k = 0; k < reference.length; k++) {
    const col = reference[k] + current[k];
    if (col === 0) continue;
    kept++;
    const er = (nr * col) / total,
      ec = (nc * col) / total;
    statistic += (reference[k] - er) ** 2 / er + (current[k] - ec) ** 2 / ec;
  }
  const df = kept - 1;
  // One populated category in both windows: the distributions are identical by construction.
  if (df === 0) return { ok: true, statistic: 0, pValue: 1, df: 0 };
  return { ok: true, statistic, pValue: chiSquaredSurvival(statistic, df), df };
}
