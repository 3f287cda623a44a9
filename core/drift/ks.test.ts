import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ksAsymptoticPValue, ksBinned, ksExactPValue, ksStatistic, ksTwoSample } from './ks.ts';
import type { TestResult } from './result.ts';
import { closeTo } from '../../harness/testing/approx.ts';

const close = closeTo(1e-6);
const ok = (r: TestResult) => {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r as { statistic: number; pValue: number };
};

test('exact p-values counted by hand from the C(n+m, n) equally likely orderings', () => {
  // [1,2,3] vs [4,5,6]: D = 1 only for xxxyyy and yyyxxx → 2/20 = 0.1 (scipy ks_2samp gives pvalue 0.1 too).
  const separated = ok(ksTwoSample([1, 2, 3], [4, 5, 6]));
  assert.equal(separated.statistic, 1);
  close(separated.pValue, 0.1, 1e-12);
  // [1,2,4] vs [3,5,6] is xxyxyy, D = 2/3. Orderings with max |#x − #y| ≤ 1 are three xy/yx pairs: 2³ = 8 of 20 → p = 12/20.
  const interleaved = ok(ksTwoSample([1, 2, 4], [3, 5, 6]));
  close(interleaved.statistic, 2 / 3, 1e-12);
  close(interleaved.pValue, 0.6, 1e-12);
  // D = 1/2 with n = m = 2 is the smallest possible gap (the first step already makes it): p = 1.
  close(ok(ksTwoSample([1, 3], [2, 4])).pValue, 1, 1e-12);
  // Unequal sizes, n = 1, m = 2: orderings xyy, yxy, yyx have D = 1, 1/2, 1 → P(D ≥ 1) = 2/3.
  close(ksExactPValue(1, 1, 2), 2 / 3, 1e-12);
});

test('asymptotic p-value: Stephens-corrected λ fed to the Kolmogorov distribution', () => {
  // n = m = 50: nₑ = 25, λ = (5 + 0.12 + 0.11/5)·D; D = 1/5.142 gives λ = 1, Q(1) = 0.26999967 (scipy.special.kolmogorov(1)).
  close(ksAsymptoticPValue(1 / 5.142, 50, 50), 0.26999967, 1e-8);
  assert.equal(ksAsymptoticPValue(0, 10, 10), 1);
  // Large samples: exact and asymptotic agree to a couple of decimals.
  const d = 0.2;
  assert.ok(Math.abs(ksExactPValue(d, 80, 100) - ksAsymptoticPValue(d, 80, 100)) < 0.01);
});

test('ties are stepped over together, NaN is ignored, the statistic is symmetric', () => {
  // ECDFs of [1,1,2] and [1,2,2] differ by 1/3 at x = 1 and nowhere else.
  close(ksStatistic([1, 1, 2, NaN], [1, 2, 2]), 1 / 3, 1e-12);
  const a = [0.1, 0.5, 0.9, 1.3, 2.2],
    b = [0.4, 0.6, 3, 4];
  assert.equal(ksStatistic(a, b), ksStatistic(b, a));
  assert.deepEqual(ksTwoSample(a, b), ksTwoSample(b, a));
});

test('identical samples: D = 0 and p = 1; empty current window: insufficient data, no NaN', () => {
  const s = [3, 1, 4, 1, 5, 9, 2, 6];
  assert.deepEqual(ksTwoSample(s, [...s]), { ok: true, statistic: 0, pValue: 1 });
  const empty = ksTwoSample(s, []);
  assert.equal(empty.ok, false);
  assert.match((empty as { reason: string }).reason, /current 0/);
  assert.equal(ksTwoSample(s, [NaN, NaN]).ok, false);
  assert.equal(ksBinned([5, 5], [0, 0]).ok, false);
});

test('binned KS: D at the shared edges, equal to the raw D when every value is its own bin', () => {
  const r = ok(ksBinned([5, 5], [0, 10]));
  assert.equal(r.statistic, 0.5);
  // [1,2,4] vs [3,5,6] over bins {1,2,3,4,5,6}: same D = 2/3 as the raw samples.
  close(ok(ksBinned([1, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 1])).statistic, 2 / 3, 1e-12);
  assert.deepEqual(ksBinned([3, 4, 5], [6, 8, 10]), { ok: true, statistic: 0, pValue: 1 });
  assert.throws(() => ksBinned([1, 2], [1, 2, 3]), /binAgainst/);
});

test('a sample shifted by one standard deviation is detected; a same-distribution sample is not', () => {
  // Deterministic logistic samples: quantiles ln(p/(1−p)) at evenly spaced p; the logistic std is π/√3.
  const logistic = (n: number, shift: number) =>
    Array.from({ length: n }, (_, i) => shift + Math.log((i + 0.5) / (n - i - 0.5)));
  const std = Math.PI / Math.sqrt(3);
  assert.ok(ok(ksTwoSample(logistic(500, 0), logistic(200, std))).pValue < 1e-6);
  assert.ok(ok(ksTwoSample(logistic(500, 0), logistic(200, 0))).pValue > 0.5);
});
