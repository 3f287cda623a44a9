/**
 * The evaluate stage for a multi-class bundle (task.classes): headline metrics on the served
 * (temperature-scaled) probabilities, the majority-class and class-prior baselines, per-class
 * precision/recall, the confusion matrix as a keyed map (DVC shows it) and as DVC `confusion`
 * plot rows, the calibration before/after, and bootstrap intervals of the probability metrics.
 */
import {
  argmaxRows,
  confusionMatrix,
  macroRocAuc,
  multiclassBaselines,
  multiclassLogLoss,
  multiclassMetrics,
  topLabelEce,
} from '../core/model/multiclass-metrics.ts';
import { bootstrapCi } from '../core/model/bootstrap.ts';

/** DVC's confusion template counts rows; more than this many test rows are thinned evenly. */
export const MAX_CONFUSION_ROWS = 20000;

export function evaluateMulticlass(
  y: Float32Array,
  p: Float32Array,
  raw: Float32Array,
  yTrain: Float32Array | { priors: number[] },
  classes: readonly string[],
) {
  const k = classes.length;
  const test = multiclassMetrics(y, p, classes);
  const predicted = argmaxRows(p, k);
  const m = confusionMatrix(y, predicted, k);
  const confusion_matrix = Object.fromEntries(
    classes.map((a, i) => [a, Object.fromEntries(classes.map((b, j) => [b, m[i][j]]))]),
  );
  const step = Math.max(1, Math.ceil(y.length / MAX_CONFUSION_ROWS));
  const confusionRows: { actual: string; predicted: string }[] = [];
  for (let r = 0; r < y.length; r += step)
    confusionRows.push({ actual: classes[y[r]], predicted: classes[predicted[r]] });
  const b = multiclassBaselines(yTrain, y, classes);
  const baseline = {
    accuracy: b.majority_class.accuracy,
    macro_f1: b.majority_class.macro_f1,
    log_loss: b.class_prior.log_loss,
    roc_auc: b.class_prior.roc_auc,
    ece: b.class_prior.ece,
  };
  const kinds: Record<string, 'majority_class' | 'class_prior'> = {
    accuracy: 'majority_class',
    macro_f1: 'majority_class',
    log_loss: 'class_prior',
    roc_auc: 'class_prior',
    ece: 'class_prior',
  };
  const majorityIndex = classes.indexOf(b.majority_class.class);
  // Row-level bootstrap over the rows' probability rows: the index vector picks whole rows.
  const rowsOf = (idx: Float64Array) => {
    const yy = new Float64Array(idx.length);
    const pp = new Float64Array(idx.length * k);
    idx.forEach((r, i) => {
      yy[i] = y[r];
      for (let c = 0; c < k; c++) pp[i * k + c] = p[r * k + c];
    });
    return { yy, pp };
  };
  const index = Float64Array.from({ length: y.length }, (_, i) => i);
  const ci = (fn: (yy: Float64Array, pp: Float64Array) => number) => {
    const interval = bootstrapCi(index, index, (a) => {
      const { yy, pp } = rowsOf(a);
      return fn(yy, pp);
    });
    return interval ? { low: interval[0], high: interval[1] } : null;
  };
  const testCi = Object.fromEntries(
    Object.entries({
      log_loss: ci((yy, pp) => multiclassLogLoss(yy, pp, k)),
      roc_auc: ci((yy, pp) => macroRocAuc(yy, pp, k)),
    }).filter((e): e is [string, { low: number; high: number }] => e[1] !== null),
  );
  return {
    test: { ...test, confusion_matrix },
    testCi,
    confusionRows,
    baseline: {
      metrics: baseline,
      kinds,
      detail: { majority_class: majorityIndex },
      kind:
        `majority class (always "${b.majority_class.class}") for accuracy and macro-F1; ` +
        `class prior (train class frequencies as every row's probabilities) for log loss, ROC-AUC and ECE`,
    },
    calibration: {
      method: 'temperature',
      ece: test.ece,
      ece_uncalibrated: topLabelEce(y, raw, k),
      log_loss: test.log_loss,
      log_loss_uncalibrated: multiclassLogLoss(y, raw, k),
      log_loss_baseline: baseline.log_loss,
    },
  };
}
