import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquaredHomogeneity } from './chi2.ts';
import { closeTo } from '../../harness/testing/approx.ts';

const close = closeTo(1e-6);

test('scipy.stats.chi2_contingency docs example [[10, 10, 20], [20, 20, 20]] → 2.7777…, p = 0.2493522, dof 2', () => {
  // By hand: totals 40/60 and 30/30/40 of 100; expected 12,12,16 / 18,18,24;
  // χ² = 4/12 + 4/12 + 16/16 + 4/18 + 4/18 + 16/24 = 25/9; df = 2 so p = e^{-χ²/2} = e^{-25/18}.
  const r = chiSquaredHomogeneity([10, 10, 20], [20, 20, 20]);
  assert.ok(r.ok);
  close(r.statistic, 25 / 9, 1e-12);
  close(r.pValue!, 0.24935220877729619);
  close(r.pValue!, Math.exp(-25 / 18), 1e-12);
  assert.equal(r.df, 2);
});

test('2×2 without continuity correction: [[10, 20], [20, 10]] → χ² = 20/3, df 1', () => {
  // Every expected count is 15: χ² = 4 · 25/15 = 20/3. p = P(χ²₁ ≥ 20/3) = 0.0098232745 (= erfc(√(10/3))).
  const r = chiSquaredHomogeneity([10, 20], [20, 10]);
  assert.ok(r.ok);
  close(r.statistic, 20 / 3, 1e-12);
  close(r.pValue!, 0.009823274507519247);
  assert.equal(r.df, 1);
});

test('categories empty in both windows are dropped before counting degrees of freedom', () => {
  const withEmpty = chiSquaredHomogeneity([10, 0, 10, 20], [20, 0, 20, 20]);
  const without = chiSquaredHomogeneity([10, 10, 20], [20, 20, 20]);
  assert.deepEqual(withEmpty, without);
});

test('a category only the current window has still counts (reference 0 has a positive expectation)', () => {
  // [[50, 50, 0], [50, 40, 10]]: column totals 100, 90, 10 of 200; expected 50, 45, 5 in both rows.
  // χ² = 0 + 25/45 + 25/5 + 0 + 25/45 + 25/5 = 10 + 10/9; df = 2 → p = e^{-(100/9)/2}.
  const r = chiSquaredHomogeneity([50, 50, 0], [50, 40, 10]);
  assert.ok(r.ok);
  close(r.statistic, 100 / 9, 1e-12);
  close(r.pValue!, Math.exp(-50 / 9), 1e-12);
});

test('identical proportions → χ² = 0, p = 1; symmetric; one category → no drift; empty window → insufficient', () => {
  assert.deepEqual(chiSquaredHomogeneity([10, 20, 30], [20, 40, 60]), { ok: true, statistic: 0, pValue: 1, df: 2 });
  assert.deepEqual(chiSquaredHomogeneity([7, 1, 4], [2, 9, 3]), chiSquaredHomogeneity([2, 9, 3], [7, 1, 4]));
  assert.deepEqual(chiSquaredHomogeneity([10, 0], [30, 0]), { ok: true, statistic: 0, pValue: 1, df: 0 });
  assert.equal(chiSquaredHomogeneity([10, 20], [0, 0]).ok, false);
});

test('a changed mix is detected', () => {
  const r = chiSquaredHomogeneity([500, 300, 200], [100, 100, 300]);
  assert.ok(r.ok && r.pValue! < 1e-10);
});
