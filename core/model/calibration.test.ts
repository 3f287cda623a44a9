import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calibrationProblem,
  applyCalibration,
  calibrateAll,
  CHOICE_ROWS,
  chooseCalibration,
  expectedCalibrationError,
  fitBeta,
  fitIsotonic,
  fitPlatt,
  logit,
} from './calibration.ts';
import { logLoss } from './quality-metrics.ts';
import { seededRandom } from '../platform/random.ts';
import { closeTo } from '../../harness/testing/approx.ts';

const close = closeTo(1e-9);

test('isotonic = pool adjacent violators, ties pooled first, interpolated between knots and clipped', () => {
  // By hand: blocks {0.1}:0 | {0.2,0.3}:(1+0)/2 | {0.4}:1 then {0.5,0.5}:1/2 violates → {0.4,0.5,0.5}: 2/3.
  const c = fitIsotonic([0.3, 0.1, 0.5, 0.2, 0.4, 0.5], [0, 0, 1, 1, 1, 0]);
  assert.deepEqual(c.x, [0.1, 0.2, 0.3, 0.4, 0.5]);
  [0, 0.5, 0.5, 2 / 3, 2 / 3].forEach((v, i) => close(c.y[i], v));
  const at = (p: number) => applyCalibration(c, p);
  close(at(0.05), 0); // clipped below
  close(at(0.15), 0.25); // halfway between 0 and 0.5
  close(at(0.35), 0.5 + 0.5 * (2 / 3 - 0.5));
  close(at(0.9), 2 / 3); // clipped above
  // Monotone whatever the data: never decreasing over a grid.
  const r = seededRandom(3);
  const s = Array.from({ length: 500 }, () => r());
  const iso = fitIsotonic(
    s,
    s.map((v) => (r() < v ? 1 : 0)),
  );
  const grid = Array.from({ length: 101 }, (_, i) => applyCalibration(iso, i / 100));
  for (let i = 1; i < grid.length; i++) assert.ok(grid[i] >= grid[i - 1]);
});

test('isotonic keeps already-monotone rates and drops interior knots of flat runs', () => {
  const c = fitIsotonic([0.1, 0.2, 0.3, 0.4], [0, 0, 0, 1]);
  assert.deepEqual(c.x, [0.1, 0.3, 0.4]);
  assert.deepEqual(c.y, [0, 0, 1]);
});

test('Platt: a saturated two-group case reproduces the group rates; a constant score gives the base rate', () => {
  // logit(score) = ±1 with 1/5 and 4/5 positives: the maximum-likelihood fit hits both rates,
  // so a = logit(0.8) = ln 4 and b = 0.
  const scores = [...Array(5).fill(1 / (1 + Math.E)), ...Array(5).fill(1 / (1 + Math.exp(-1)))];
  const y = [1, 0, 0, 0, 0, 1, 1, 1, 1, 0];
  const c = fitPlatt(scores, y);
  close(c.a, Math.log(4), 1e-4);
  close(c.b, 0, 1e-4);
  close(applyCalibration(c, scores[0]), 0.2, 1e-5);
  close(applyCalibration(c, scores[9]), 0.8, 1e-5);
  const flat = fitPlatt(Array(8).fill(0.5), [1, 1, 0, 0, 0, 0, 0, 0]);
  close(applyCalibration(flat, 0.5), 0.25, 1e-5);
  close(flat.b, logit(0.25), 1e-4);
});

test('Platt converges where plain Newton steps diverged: a flat slope over logits down to −12', () => {
  // Trees' scores: a few far in the low tail, the rate following sigmoid(0.3 · logit − 0.25).
  // Undamped Newton from a = 1 went to a ≈ 2 · 10⁶ here (and on a real backtest cut).
  const r = seededRandom(4);
  const z = Array.from({ length: 2000 }, () => (r() < 0.05 ? -12 + 4 * r() : -4 + 9 * r()));
  const s = z.map((v) => 1 / (1 + Math.exp(-v)));
  const y = z.map((v) => (r() < 1 / (1 + Math.exp(-(0.3 * v - 0.25))) ? 1 : 0));
  const c = fitPlatt(s, y);
  close(c.a, 0.3, 0.05);
  close(c.b, -0.25, 0.1);
});

test('Platt on separable data stays finite and ordered', () => {
  const c = fitPlatt([0.3, 0.3, 0.35, 0.7, 0.7, 0.75], [0, 0, 0, 1, 1, 1]);
  assert.ok(Number.isFinite(c.a) && Number.isFinite(c.b) && c.a > 1);
  assert.ok(applyCalibration(c, 0.3) < 0.05 && applyCalibration(c, 0.7) > 0.95);
});

test('expected calibration error on a hand case', () => {
  // bin [0.1,0.2): mean 0.1, rate 1/2 → 2/4 · 0.4; bin [0.9,1]: mean 0.9, rate 1 → 2/4 · 0.1
  close(expectedCalibrationError([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9]), 0.25);
  close(expectedCalibrationError([0, 1], [0.5, 0.5]), 0);
  close(expectedCalibrationError([1], [1]), 0); // p = 1 falls in the last bin
});

test('calibration is chosen by cross-fitted validation log loss: isotonic for a step, a logit slope for a sigmoid on few rows', () => {
  const r = seededRandom(11);
  // Step: the real rate jumps from 0.1 to 0.6 at score 0.5, which no sigmoid of the logit follows.
  const s1 = Array.from({ length: 4000 }, () => r());
  const y1 = s1.map((v) => (r() < (v < 0.5 ? 0.1 : 0.6) ? 1 : 0));
  const step = chooseCalibration(s1, y1);
  assert.equal(step.calibration.method, 'isotonic');
  assert.ok(
    step.validation_log_loss.isotonic < Math.min(step.validation_log_loss.platt, step.validation_log_loss.beta),
  );
  // Overconfident scores (rate = sigmoid(0.5 · logit)) on 300 rows: two or three parameters beat a step
  // function, and whichever is chosen (beta contains Platt as a = b) has both slopes near 0.5.
  const s2 = Array.from({ length: 300 }, () => 0.02 + 0.96 * r());
  const y2 = s2.map((v) => (r() < 1 / (1 + Math.exp(-0.5 * logit(v))) ? 1 : 0));
  const sig = chooseCalibration(s2, y2);
  const c = sig.calibration;
  assert.ok(c.method === 'platt' || c.method === 'beta', c.method);
  const slopes = c.method === 'platt' ? [c.a] : c.method === 'beta' ? [c.a, c.b] : [];
  for (const a of slopes) assert.ok(Math.abs(a - 0.5) < 0.3, `slope ${a}`);
  assert.ok(sig.validation_log_loss[c.method] <= sig.validation_log_loss.isotonic);
  // Calibrating never makes the in-sample log loss worse than the raw scores here.
  assert.ok(logLoss(y2, calibrateAll(c, s2)) < logLoss(y2, s2));
});

// Trees' scores bend differently at the two ends (docs/model-quality.md "Calibration"): the rate
// follows a · ln(s) − b · ln(1 − s) + c with a ≠ b, which one logit slope cannot follow.
const betaRate = (s: number) => 1 / (1 + Math.exp(-(0.4 * Math.log(s) - 1.0 * Math.log(1 - s) - 0.8)));

test('beta calibration recovers asymmetric tails, is chosen over Platt for them, and Platt is its a = b case', () => {
  const r = seededRandom(5);
  const s = Array.from({ length: 6000 }, () => 0.001 + 0.998 * r() ** 2);
  const y = s.map((v) => (r() < betaRate(v) ? 1 : 0));
  const fit = fitBeta(s, y);
  close(fit.a, 0.4, 0.1);
  close(fit.b, 1.0, 0.15);
  close(fit.c, -0.8, 0.25);
  const choice = chooseCalibration(s, y);
  assert.equal(choice.calibration.method, 'beta');
  assert.ok(choice.validation_log_loss.beta < choice.validation_log_loss.platt);
  const platt = fitPlatt(s, y);
  const asBeta = { method: 'beta' as const, a: platt.a, b: platt.a, c: platt.b };
  for (const p of [0.001, 0.2, 0.5, 0.93]) close(applyCalibration(asBeta, p), applyCalibration(platt, p), 1e-9);
  const grid = Array.from({ length: 101 }, (_, i) => applyCalibration(fit, i / 100));
  for (let i = 1; i < grid.length; i++) assert.ok(grid[i] >= grid[i - 1]);
  assert.ok(grid.every((v) => v > 0 && v < 1)); // even at scores 0 and 1 (clipped like the logit)
});

test('on more validation rows than CHOICE_ROWS the choice looks at a spread of them and the map is fitted on all', () => {
  const r = seededRandom(13);
  const s = Array.from({ length: CHOICE_ROWS + 9_000 }, () => 0.001 + 0.998 * r() ** 2);
  const y = s.map((v) => (r() < betaRate(v) ? 1 : 0));
  const choice = chooseCalibration(s, y);
  assert.deepEqual(choice.calibration, fitBeta(s, y));
  assert.notDeepEqual(choice.calibration, fitBeta(s.slice(0, CHOICE_ROWS), y.slice(0, CHOICE_ROWS)));
});

test('beta calibration keeps its slopes ≥ 0: a tail that falls is flattened, not reversed', () => {
  const r = seededRandom(8);
  // The rate falls as the score goes from 0.01 to 0.3 (a < 0 would fit it) and rises after.
  const s = Array.from({ length: 3000 }, () => 0.01 + 0.98 * r());
  const y = s.map((v) => (r() < (v < 0.3 ? 0.5 - v : v) ? 1 : 0));
  const fit = fitBeta(s, y);
  assert.equal(fit.a, 0);
  assert.ok(fit.b > 0);
  // A rate that only falls: both slopes at 0, the base rate for every score.
  const falling = fitBeta([0.1, 0.2, 0.3, 0.7, 0.8, 0.9], [1, 1, 0, 1, 0, 0]);
  assert.deepEqual([falling.a, falling.b], [0, 0]);
  close(applyCalibration(falling, 0.05), 0.5, 1e-9);
  close(applyCalibration(falling, 0.95), 0.5, 1e-9);
});

test('calibrationProblem: isotonic knots that cannot interpolate are named; fitted ones pass', () => {
  assert.equal(calibrationProblem(fitIsotonic([0.1, 0.4, 0.8], [0, 1, 1])), null);
  assert.equal(calibrationProblem({ method: 'platt', a: 1, b: 0 }), null);
  assert.match(calibrationProblem({ method: 'isotonic', x: [], y: [] })!, /no knots/);
  assert.match(calibrationProblem({ method: 'isotonic', x: [0.1, 0.2], y: [0.5] })!, /2 x knots but 1 y values/);
  assert.match(calibrationProblem({ method: 'isotonic', x: [0.2, 0.2], y: [0, 1] })!, /x\[1\] = 0.2 does not increase/);
  assert.match(
    calibrationProblem({ method: 'isotonic', x: [0.1, 0.2], y: [0, 1.5] })!,
    /y\[1\] = 1.5 is not a probability/,
  );
});
