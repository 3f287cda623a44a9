import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquaredSurvival, gammaQ, kolmogorovSurvival, logGamma } from './special.ts';
import { closeTo } from '../../harness/testing/approx.ts';

const close = closeTo(1e-6);

/** erfc from the Maclaurin series of erf (independent of the gamma code); accurate to ~1e-13 for z < 3. */
function erfc(z: number): number {
  let term = z,
    sum = z;
  for (let n = 1; n < 200; n++) {
    term *= (-z * z) / n;
    sum += term / (2 * n + 1);
  }
  return 1 - (2 / Math.sqrt(Math.PI)) * sum;
}

test('logGamma: Γ(5) = 4! = 24, Γ(1/2) = √π, Γ(1) = Γ(2) = 1', () => {
  close(logGamma(5), Math.log(24), 1e-12);
  close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-12);
  close(logGamma(1), 0, 1e-12);
  close(logGamma(2), 0, 1e-12);
  close(logGamma(10.5), Math.log((654729075 / 1024) * Math.sqrt(Math.PI)), 1e-10); // Γ(10.5) = 19!!/2^10 · √π
});

test('gammaQ matches the closed form for integer a: Q(n, x) = e^-x Σ_{k<n} x^k/k!', () => {
  for (const a of [1, 2, 3, 5, 10, 30]) {
    for (const x of [0.01, 0.5, 1, 2.5, a, a + 1, 7, 20, 60]) {
      let term = 1,
        s = 1;
      for (let k = 1; k < a; k++) s += term *= x / k;
      close(gammaQ(a, x), Math.exp(-x) * s, 1e-12, `Q(${a}, ${x})`);
    }
  }
});

test('gammaQ(1/2, x) = erfc(√x) (both branches: series below a+1, continued fraction above)', () => {
  for (const x of [0.01, 0.3, 1.2, 1.6, 3, 6]) close(gammaQ(0.5, x), erfc(Math.sqrt(x)), 1e-10, `x=${x}`);
  assert.equal(gammaQ(2, 0), 1);
  assert.equal(gammaQ(2, Infinity), 0);
  assert.throws(() => gammaQ(0, 1), /a > 0/);
});

test('chi-squared survival at textbook 5% critical values (χ² table: 3.841, 5.991, 7.815, 18.307)', () => {
  // The printed tables round to 3 decimals; these are the same quantiles to full precision (df = 2 is exact: Q = e^{-x/2}).
  close(chiSquaredSurvival(3.841458820694124, 1), 0.05);
  close(chiSquaredSurvival(5.991464547107979, 2), 0.05);
  close(chiSquaredSurvival(7.814727903251178, 3), 0.05);
  close(chiSquaredSurvival(18.307038053275146, 10), 0.05);
  close(chiSquaredSurvival(6.634896601021214, 1), 0.01); // table: 6.635 at the 1% level, df = 1
  close(chiSquaredSurvival(2 * Math.log(20), 2), 0.05, 1e-14); // df = 2 closed form, exactly
  close(chiSquaredSurvival(20 / 3, 1), erfc(Math.sqrt(10 / 3)), 1e-10); // df = 1: P = erfc(√(x/2))
  assert.equal(chiSquaredSurvival(0, 4), 1);
});

test('Kolmogorov survival: scipy.special.kolmogorov docs example and the series by hand', () => {
  // scipy docs: kolmogorov([0, 0.5, 1.0]) → [1., 0.96394524, 0.26999967].
  // By hand at λ = 1: 2(e^-2 − e^-8 + e^-18 − …) = 2(0.1353352832 − 0.0003354626 + 0.0000000152) = 0.2699996717.
  assert.equal(kolmogorovSurvival(0), 1);
  close(kolmogorovSurvival(0.5), 0.96394524, 1e-8);
  close(kolmogorovSurvival(1), 2 * (Math.exp(-2) - Math.exp(-8) + Math.exp(-18) - Math.exp(-32)), 1e-12);
  close(kolmogorovSurvival(1), 0.26999967, 1e-8);
  // The classic 5% critical value 1.358 of the Kolmogorov distribution (1.36 in most tables).
  close(kolmogorovSurvival(1.3580986393225505), 0.05, 1e-9);
  close(kolmogorovSurvival(1.2238478702170825), 0.1, 1e-9); // 10% critical value, 1.224 in tables
  close(kolmogorovSurvival(1.6276236115189502), 0.01, 1e-9); // 1% critical value, 1.628 in tables
});

test('Kolmogorov survival: the two series agree where they switch, and the function decreases', () => {
  close(kolmogorovSurvival(1.18 - 1e-12), kolmogorovSurvival(1.18 + 1e-12), 1e-10);
  let previous = 1;
  for (let l = 0.05; l < 4; l += 0.05) {
    const q = kolmogorovSurvival(l);
    assert.ok(q <= previous + 1e-15 && q >= 0, `λ=${l}`);
    previous = q;
  }
});
