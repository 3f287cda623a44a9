import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestResult } from './result.ts';
import {
  MIN_NORMALISING_STD,
  normaliseByStd,
  populationStd,
  wassersteinBinned,
  wassersteinSamples,
} from './wasserstein.ts';
import { closeTo } from '../../harness/testing/approx.ts';

const close = closeTo(1e-6);
const stat = (r: TestResult) => {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.statistic;
};

test('samples: scipy.stats.wasserstein_distance docs examples', () => {
  // wasserstein_distance([0, 1, 3], [5, 6, 8]) → 5.0 (every quantile moves by 5)
  close(stat(wassersteinSamples([0, 1, 3], [5, 6, 8])), 5, 1e-12);
  // wasserstein_distance([0, 1], [0, 1], [3, 1], [2, 2]) → 0.25 (CDFs 0.75 vs 0.5 on [0, 1))
  close(stat(wassersteinSamples([0, 1], [0, 1], [3, 1], [2, 2])), 0.25, 1e-12);
  // wasserstein_distance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4], [1.4, 0.9, 3.1, 7.2], [3.2, 3.5]) → 4.0781331438047861.
  // By hand: gaps 2, 0.5, 0.6, 3, 0.3 times |U − V| = 3.5/6.7, |1.4/12.6 − 3.5/6.7|, |2.3/12.6 − 3.5/6.7|, 1 − 2.3/12.6, 1 − 5.4/12.6.
  close(
    stat(wassersteinSamples([3.4, 3.9, 7.5, 7.8], [4.5, 1.4], [1.4, 0.9, 3.1, 7.2], [3.2, 3.5])),
    4.0781331438047861,
  );
});

test('samples: identical → 0, symmetric, empty → insufficient, negative weights refused', () => {
  assert.equal(stat(wassersteinSamples([1, 5, 2], [2, 1, 5])), 0);
  assert.equal(stat(wassersteinSamples([1, 2, 9], [4, 4.5])), stat(wassersteinSamples([4, 4.5], [1, 2, 9])));
  assert.equal(wassersteinSamples([1, 2], []).ok, false);
  assert.equal(wassersteinSamples([1, 2], [NaN]).ok, false);
  assert.throws(() => wassersteinSamples([1], [2], [-1]), /negative/);
});

test('normalised by the reference population std, floored for constant references', () => {
  // std([0, 1, 3]) = √(14/9) (mean 4/3); 5 / √(14/9) = 4.0089186
  close(populationStd([0, 1, 3]), Math.sqrt(14 / 9), 1e-12);
  close(populationStd([2, 4, 4, 4, 5, 5, 7, 9]), 2, 1e-12); // textbook: population std 2
  close(stat(normaliseByStd(wassersteinSamples([0, 1, 3], [5, 6, 8]), populationStd([0, 1, 3]))), 4.008918628686365);
  close(stat(normaliseByStd({ ok: true, statistic: 0.5 }, 0)), 0.5 / MIN_NORMALISING_STD, 1e-9);
  assert.equal(normaliseByStd({ ok: false, reason: 'x' }, 1).ok, false);
});

test('binned: uniform mass inside bins, integrated exactly (hand-computed cases)', () => {
  // Uniform on [0,1] vs uniform on [1,2]: a shift by 1 → W₁ = 1. Layout [below, bins…, above].
  close(stat(wassersteinBinned([0, 1, 2], [0, 1, 0, 0], [0, 0, 1, 0])), 1, 1e-12);
  // Uniform [0,2] vs uniform [0,1]: ∫₀¹|x − x/2| + ∫₁²|1 − x/2| = 1/4 + 1/4.
  close(stat(wassersteinBinned([0, 1, 2], [0, 1, 1, 0], [0, 2, 0, 0])), 0.5, 1e-12);
  // Uniform [1,2] vs half on [0,1], half on [2,3]: the CDF difference changes sign inside [1,2];
  // quantile functions 1+u vs 2u / 1+2u → ∫₀^½(1−u) + ∫_½¹u = 3/8 + 3/8.
  close(stat(wassersteinBinned([0, 1, 2, 3], [0, 0, 1, 0, 0], [0, 1, 0, 1, 0])), 0.75, 1e-12);
  // Identical counts (any scale) → 0; symmetric.
  assert.equal(stat(wassersteinBinned([0, 1, 5], [0, 3, 7, 0], [0, 6, 14, 0])), 0);
  const e = [0, 1, 2, 4];
  assert.equal(
    stat(wassersteinBinned(e, [0, 1, 2, 3, 0], [1, 0, 4, 1, 2])),
    stat(wassersteinBinned(e, [1, 0, 4, 1, 2], [0, 1, 2, 3, 0])),
  );
});

test('binned: out-of-range mass sits on the edge unless its mean is given, then that region is exact', () => {
  // Reference uniform on [0,1]; every current value is −2 (below the range).
  close(stat(wassersteinBinned([0, 1], [0, 1, 0], [1, 0, 0])), 0.5, 1e-12); // lower bound: mass on the edge 0
  close(stat(wassersteinBinned([0, 1], [0, 1, 0], [1, 0, 0], { current: { below: -2 } })), 2.5, 1e-12); // exact: E|U − (−2)| = 2.5
  // Same above: all current at 4 vs uniform [0,1] → 3.5; agrees with the sample version.
  close(stat(wassersteinBinned([0, 1], [0, 1, 0], [0, 0, 3], { current: { above: 4 } })), 3.5, 1e-12);
  // Both windows out of range on the same side: the step areas overlap.
  close(
    stat(wassersteinBinned([0, 1], [1, 0, 0], [1, 0, 0], { reference: { below: -1 }, current: { below: -3 } })),
    2,
    1e-12,
  );
});

test('binned: empty window → insufficient; wrong layouts name the fix', () => {
  assert.equal(wassersteinBinned([0, 1], [0, 1, 0], [0, 0, 0]).ok, false);
  assert.throws(() => wassersteinBinned([0, 1], [1, 2], [1, 2]), /\[below, bins…, above\]/);
});
