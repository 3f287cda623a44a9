/**
 * What the API says for a multi-class model (its bundle has `classes`): the answer of one record
 * (the label and every class's probability, keyed by class name), the class of a feedback label
 * (a class name, or its index), and live quality over joined feedback (accuracy, macro-F1).
 * Pure functions, kept apart from the binary/regression code paths they sit beside.
 */
import { classIndex, type TargetSpec } from '../core/model/targets.ts';
import { macroF1, multiclassAccuracy } from '../core/model/multiclass-metrics.ts';
import type { LiveMetrics } from './feedback.ts';

export interface MulticlassAnswer {
  label: string;
  /** Probability of the label (the largest). */
  probability: number;
  probabilities: Record<string, number>;
}

export function multiclassAnswer(classes: readonly string[], probabilities: readonly number[]): MulticlassAnswer {
  let best = 0;
  for (let c = 1; c < classes.length; c++) if (probabilities[c] > probabilities[best]) best = c;
  return {
    label: classes[best],
    probability: probabilities[best],
    probabilities: Object.fromEntries(classes.map((name, c) => [name, probabilities[c]])),
  };
}

/**
 * The class index a feedback `label` names for a model with a class vocabulary (multi-class) or a
 * positive class (binary by label): the label as sent ("rain", true, 3; an integer is a class
 * label, not a position in the class list), or 0/1 for a binary one. Null when the model has neither (a numeric-threshold or regression model) or the
 * label is no class of the model; `reason` then says what is accepted.
 */
export function feedbackClass(spec: TargetSpec, label: unknown): { index: number } | { index: null; reason: string } {
  if (!spec.classes && spec.positive_class === undefined)
    return { index: null, reason: 'this model has no class names' };
  if (spec.positive_class !== undefined && (label === 0 || label === 1)) return { index: label };
  const byName =
    typeof label === 'string' || typeof label === 'boolean' || typeof label === 'number'
      ? classIndex(spec, label)
      : null;
  if (byName !== null) return { index: byName };
  const accepted = spec.classes
    ? `one of ${spec.classes.map((c) => JSON.stringify(c)).join(', ')}`
    : `${JSON.stringify(spec.positive_class)} (positive), another label (negative), 0 or 1`;
  return { index: null, reason: `"label" must be ${accepted}` };
}

/** Live quality of a multi-class model: predicted and actual are class indices. */
export function liveMulticlass(
  w: { actual: Float64Array; predicted: Float64Array },
  classes: readonly string[],
): Extract<LiveMetrics, { task: 'multiclass' }> | null {
  const n = w.actual.length;
  if (n === 0) return null;
  return {
    task: 'multiclass',
    n,
    accuracy: multiclassAccuracy(w.actual, w.predicted),
    macro_f1: macroF1(w.actual, w.predicted, classes.length),
  };
}
