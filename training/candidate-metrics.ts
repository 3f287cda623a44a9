/**
 * Scoring a candidate by the primary metric, and which direction is better: what train selects
 * by and what evaluate and register compare with. Kept apart from training/fit.ts so the stages
 * that only score do not load the training loops.
 */
import { averagePrecision, logLoss, mae, rmse, rocAuc } from '../core/model/quality-metrics.ts';
import { multiclassMetricValue } from '../core/model/multiclass-metrics.ts';
import { higherIsBetter, isBetter, PRIMARY_METRICS, type PrimaryMetric } from '../core/schemas/metric-directions.ts';

export { isBetter, type PrimaryMetric };
/** Per primary metric, whether higher is better: read from the one table, core/schemas/metric-directions.ts. */
export const HIGHER_IS_BETTER = Object.fromEntries(PRIMARY_METRICS.map((m) => [m, higherIsBetter(m)])) as Record<
  PrimaryMetric,
  boolean
>;

export function metricValue(metric: PrimaryMetric, y: ArrayLike<number>, p: ArrayLike<number>, classes = 1): number {
  if (classes > 1) return multiclassMetricValue(metric, y, p, classes);
  switch (metric) {
    case 'roc_auc':
      return rocAuc(y, p);
    case 'pr_auc':
      return averagePrecision(y, p);
    case 'log_loss':
      return logLoss(y, p);
    case 'rmse':
      return rmse(y, p);
    case 'mae':
      return mae(y, p);
    case 'accuracy':
    case 'macro_f1':
      throw new Error(
        `${metric} is a multi-class metric; set task.classes: auto, or pick ${'roc_auc, pr_auc or log_loss'}`,
      );
  }
}
