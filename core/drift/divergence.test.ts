import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jensenShannonDistance, populationStabilityIndex, PSI_EPSILON } from './divergence.ts';
import type { TestResult } from './result.ts';
import { closeTo } from '../../harness/testing/approx.ts';

const close = closeTo(1e-6);
const stat = (r: TestResult) => {
  assert.ok(r.ok);
  return r.statistic;
};

test('Jensen–Shannon: scipy.spatial.distance.jensenshannon docs examples', () => {
  // jensenshannon([1, 0, 0], [0, 1, 0], 2.0) → 1.0 (disjoint supports reach the base-2 maximum)
  close(stat(jensenShannonDistance([1, 0, 0], [0, 1, 0])), 1, 1e-12);
  // jensenshannon([1.0, 0.0], [0.5, 0.5]) → 0.46450140402245893 (natural log). By hand: m = (0.75, 0.25),
  // KL(p‖m) = ln(4/3), KL(q‖m) = ½ln(2/3) + ½ln 2; JSD = ½(0.2876821 + 0.1438410) = 0.2157616, √ = 0.4645014.
  close(stat(jensenShannonDistance([1, 0], [0.5, 0.5], Math.E)), 0.46450140402245893);
  // The same pair in base 2 divides the divergence by ln 2 before the square root.
  close(stat(jensenShannonDistance([1, 0], [0.5, 0.5])), Math.sqrt(0.21576155433883565 / Math.LN2));
  // jensenshannon([1, 0, 0], [1, 0, 0]) → 0.0
  assert.equal(stat(jensenShannonDistance([1, 0, 0], [1, 0, 0])), 0);
});

test('Jensen–Shannon works on raw counts, is symmetric, bounded by 1, and insufficient on empty windows', () => {
  close(stat(jensenShannonDistance([100, 0], [50, 50], Math.E)), 0.46450140402245893);
  assert.equal(stat(jensenShannonDistance([3, 7, 1], [9, 2, 5])), stat(jensenShannonDistance([9, 2, 5], [3, 7, 1])));
  assert.equal(stat(jensenShannonDistance([10, 30], [1, 3])), 0);
  assert.ok(stat(jensenShannonDistance([1, 0, 0, 0], [0, 0, 0, 5])) <= 1);
  assert.equal(jensenShannonDistance([1, 2], [0, 0]).ok, false);
});

test('PSI by hand: shares 50/50 → 25/75 gives 0.25·ln 3', () => {
  // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5) = 0.25·(ln 2 + ln 1.5) = 0.25·ln 3 = 0.2746531
  close(stat(populationStabilityIndex([50, 50], [25, 75])), 0.25 * Math.log(3), 1e-12);
  close(stat(populationStabilityIndex([50, 50], [25, 75])), 0.2746530721670274);
});

test('PSI replaces an empty share with ε = 1e-4 so the index stays finite', () => {
  // reference shares (1, 0→ε), current (0.5, 0.5): (0.5 − 1)·ln 0.5 + (0.5 − ε)·ln(0.5/ε)
  const expected = -0.5 * Math.log(0.5) + (0.5 - PSI_EPSILON) * Math.log(0.5 / PSI_EPSILON);
  close(stat(populationStabilityIndex([10, 0], [5, 5])), expected, 1e-12);
  assert.equal(PSI_EPSILON, 1e-4);
});

test('PSI: identical shares → 0, symmetric, empty window → insufficient', () => {
  assert.equal(stat(populationStabilityIndex([1, 2, 3], [10, 20, 30])), 0);
  close(
    stat(populationStabilityIndex([3, 7, 1], [9, 2, 5])),
    stat(populationStabilityIndex([9, 2, 5], [3, 7, 1])),
    1e-15,
  );
  assert.equal(populationStabilityIndex([], []).ok, false);
});
