/**
 * How much of a time-split test's calibration error comes from the calibrator and how much from a
 * change of delay rate between validation and test. Two reference points beside the delay rates
 * (Platt maps minimise log loss, not ECE, so neither is a strict lower bound):
 *  - `ece_validation_platt_at_test_rate`: the validation-fitted Platt map with its intercept moved
 *    so the mean served probability equals the test period's delay rate (knowing only that rate);
 *  - `ece_platt_fitted_on_test`: a Platt map fitted on the test labels themselves.
 * When the served ECE is far above the first and the first is near the second, the remaining error
 * is the change of delay rate, not the calibrator.
 */
import {
  applyCalibration,
  expectedCalibrationError,
  fitPlatt,
  type PlattCalibration,
} from '../../../core/model/calibration.ts';

type Numbers = ArrayLike<number>;
export interface Scored {
  /** Uncalibrated model scores. */
  raw: Numbers;
  /** 0/1 labels. */
  y: Numbers;
}

const mean = (a: Numbers) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};
/** Scores of `c` with `shift` added to its intercept. */
function shifted(c: PlattCalibration, raw: Numbers, shift: number): Float64Array {
  const moved = { ...c, b: c.b + shift };
  return Float64Array.from({ length: raw.length }, (_, i) => applyCalibration(moved, raw[i]));
}

/** The intercept shift that makes the mean of `c`'s scores on `raw` equal `rate` (bisection; the mean is increasing in it). */
export function interceptShiftTo(c: PlattCalibration, raw: Numbers, rate: number): number {
  let lo = -20,
    hi = 20;
  for (let k = 0; k < 80; k++) {
    const mid = (lo + hi) / 2;
    if (mean(shifted(c, raw, mid)) > rate) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

export function calibrationFloor(validation: Scored, test: Scored, served: Numbers) {
  const testRate = mean(test.y);
  const fromValidation = fitPlatt(validation.raw, validation.y);
  const shift = interceptShiftTo(fromValidation, test.raw, testRate);
  const onTest = fitPlatt(test.raw, test.y);
  return {
    validation_rate: mean(validation.y),
    test_rate: testRate,
    test_mean_served: mean(served),
    ece_served: expectedCalibrationError(test.y, served),
    ece_validation_platt_at_test_rate: expectedCalibrationError(test.y, shifted(fromValidation, test.raw, shift)),
    intercept_shift_to_test_rate: shift,
    ece_platt_fitted_on_test: expectedCalibrationError(test.y, shifted(onTest, test.raw, 0)),
  };
}
