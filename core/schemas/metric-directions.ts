/**
 * Which way each metric improves: the one table training (model selection, promotion), the
 * report and the pull-request diff all read, so they can never disagree.
 */

export type Direction = 'higher' | 'lower';

export const METRIC_DIRECTIONS = {
  accuracy: 'higher',
  precision: 'higher',
  recall: 'higher',
  f1: 'higher',
  /** Multi-class: the unweighted mean of the per-class F1 scores. */
  macro_f1: 'higher',
  roc_auc: 'higher',
  pr_auc: 'higher',
  r2: 'higher',
  log_loss: 'lower',
  brier: 'lower',
  /** Expected calibration error of the probabilities. */
  ece: 'lower',
  mae: 'lower',
  mse: 'lower',
  rmse: 'lower',
  mape: 'lower',
  smape: 'lower',
} as const satisfies Record<string, Direction>;

export type KnownMetric = keyof typeof METRIC_DIRECTIONS;

/** The metrics `train.primary_metric` may name (params.yaml). */
export const PRIMARY_METRICS = [
  'roc_auc',
  'pr_auc',
  'log_loss',
  'rmse',
  'mae',
  'accuracy',
  'macro_f1',
] as const satisfies readonly KnownMetric[];
export type PrimaryMetric = (typeof PRIMARY_METRICS)[number];

/** The direction of a metric, or null for a name that is no metric (a threshold, a count). */
export function metricDirection(metric: string): Direction | null {
  return Object.hasOwn(METRIC_DIRECTIONS, metric) ? METRIC_DIRECTIONS[metric as KnownMetric] : null;
}

export function higherIsBetter(metric: string): boolean {
  const d = metricDirection(metric);
  if (d === null)
    throw new Error(
      `"${metric}" is not a known metric (${Object.keys(METRIC_DIRECTIONS).join(', ')}); add it to METRIC_DIRECTIONS in core/schemas/metric-directions.ts`,
    );
  return d === 'higher';
}

/** `a` beats `b` by more than `margin` on `metric`; a non-finite `a` never does, a non-finite `b` always loses. */
export function isBetter(metric: string, a: number, b: number, margin = 0): boolean {
  if (!Number.isFinite(a)) return false;
  if (!Number.isFinite(b)) return true;
  return higherIsBetter(metric) ? a > b + margin : a < b - margin;
}
