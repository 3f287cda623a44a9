/**
 * The multi-class parts of the train stage (task.classes): balanced class weights, temperature
 * scaling fitted on validation, golden examples with every class probability, and the per-class
 * prediction profiles drift compares served probabilities with.
 */
import {
  applyTemperature,
  classPriors,
  fitTemperature,
  multiclassLogLoss,
  topLabelEce,
} from '../core/model/multiclass-metrics.ts';
import { profileNumeric, type NumericProfile } from '../core/model/profile.ts';
import type { Calibration } from '../core/model/calibration.ts';
import type { GoldenExample } from '../core/model/bundle.ts';

/** n / (k · count) per class, so every class weighs the same in the loss; a class absent from train stops the stage. */
export function balancedClassWeights(y: Float32Array, classes: readonly string[]): Record<number, number> {
  const priors = classPriors(y, classes.length);
  const absent = classes.filter((_, c) => priors[c] === 0);
  if (absent.length)
    throw new Error(
      `the train split has no rows of class ${absent.join(', ')}; ingest more data or set train.class_weight: none`,
    );
  return Object.fromEntries(priors.map((p, c) => [c, 1 / (classes.length * p)]));
}

/** Temperature scaling on the winner's validation probabilities, and its validation metrics after it. */
export function finishMulticlass(
  y: Float32Array,
  raw: Float32Array,
  classes: readonly string[],
  metricsOf: (p: Float32Array) => Record<string, unknown>,
  round: (o: Record<string, unknown>) => Record<string, unknown>,
) {
  const k = classes.length;
  const temperature = fitTemperature(y, raw, k);
  const scores = applyTemperature(raw, k, temperature);
  const calibration: Calibration = { method: 'temperature', temperature };
  return {
    scores,
    metrics: metricsOf(scores),
    threshold: undefined,
    calibration,
    calibration_fit: round({
      method: 'temperature',
      temperature,
      log_loss: { uncalibrated: multiclassLogLoss(y, raw, k), temperature: multiclassLogLoss(y, scores, k) },
      ece_uncalibrated: topLabelEce(y, raw, k),
      ece_calibrated: topLabelEce(y, scores, k),
    }),
    residual_quantiles: undefined,
  };
}

/** Golden examples of a softmax model: the predicted class index as `expected`, every probability beside it. */
export function multiclassGolden(records: Record<string, unknown>[], out: Float32Array, k: number): GoldenExample[] {
  return records.map((record, i) => {
    const probabilities = Array.from(out.subarray(i * k, (i + 1) * k));
    return { record, expected: probabilities.indexOf(Math.max(...probabilities)), probabilities };
  });
}

/** One probability profile per class (validation rows), keyed by class name, for prediction drift per class. */
export function profilePerClass(
  p: Float32Array,
  classes: readonly string[],
  bins: number,
): { prediction_classes: Record<string, NumericProfile> } {
  const k = classes.length;
  const n = p.length / k;
  return {
    prediction_classes: Object.fromEntries(
      classes.map((name, c) => [
        name,
        profileNumeric({ type: 'number', values: Float64Array.from({ length: n }, (_, r) => p[r * k + c]) }, bins),
      ]),
    ),
  };
}
