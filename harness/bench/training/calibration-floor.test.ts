import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationFloor, interceptShiftTo } from './calibration-floor.ts';
import { seededRandom } from '../../../core/platform/random.ts';

/** Scores whose logit is normal; labels drawn with probability sigmoid(logit + offset): `offset` moves the delay rate only. */
function period(n: number, offset: number, seed: number) {
  const rnd = seededRandom(seed);
  const raw = new Float64Array(n),
    y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = -1.5 + Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    raw[i] = 1 / (1 + Math.exp(-z));
    y[i] = rnd() < 1 / (1 + Math.exp(-(z + offset))) ? 1 : 0;
  }
  return { raw, y };
}

test('the intercept shift reproduces a rate exactly and is 0 for the rate the map already has', () => {
  const identity = { method: 'platt' as const, a: 1, b: 0 };
  const raw = [0.1, 0.2, 0.3, 0.4];
  assert.ok(Math.abs(interceptShiftTo(identity, raw, 0.25)) < 1e-9); // mean of raw is 0.25
  const shift = interceptShiftTo(identity, raw, 0.1);
  const mean = raw.reduce((s, p) => s + 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + shift))), 0) / raw.length;
  assert.ok(Math.abs(mean - 0.1) < 1e-9);
});

test('a change of delay rate between validation and test shows as served ECE far above both floors', () => {
  const validation = period(60_000, 0, 1);
  const test = period(60_000, -0.5, 2); // same ranking, fewer late flights
  // Served: the map fitted on validation (identity here, since validation is calibrated by construction).
  const f = calibrationFloor(validation, test, test.raw);
  assert.ok(f.test_rate < f.validation_rate - 0.04, `rates ${f.validation_rate} → ${f.test_rate}`);
  assert.ok(Math.abs(f.intercept_shift_to_test_rate - -0.5) < 0.06, `shift ${f.intercept_shift_to_test_rate}`);
  assert.ok(f.ece_served > 0.04, `served ECE ${f.ece_served}`);
  assert.ok(f.ece_validation_platt_at_test_rate < 0.01 && f.ece_platt_fitted_on_test < 0.01, JSON.stringify(f));
});

test('without a change of rate the shift is about 0 and the floors equal what validation already gives', () => {
  const validation = period(60_000, 0, 3);
  const test = period(60_000, 0, 4);
  const f = calibrationFloor(validation, test, test.raw);
  assert.ok(Math.abs(f.intercept_shift_to_test_rate) < 0.05, `shift ${f.intercept_shift_to_test_rate}`);
  assert.ok(
    f.ece_served < 0.01 && Math.abs(f.ece_served - f.ece_validation_platt_at_test_rate) < 0.01,
    JSON.stringify(f),
  );
});
