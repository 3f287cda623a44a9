/**
 * The headline: this run's test metrics against production (re-scored on the same test rows by
 * the register stage) and against the baseline predictor, with signed deltas.
 */
import { raw, table } from '../../core/charts/markdown.ts';
import { metricDirection } from '../../core/schemas/metric-directions.ts';
import { metricOf, type Evaluation, type Input, type Registration } from './inputs.ts';

const CLASSIFICATION_METRICS = [
  'roc_auc',
  'pr_auc',
  'log_loss',
  'ece',
  'macro_f1',
  'f1',
  'precision',
  'recall',
  'accuracy',
];
const REGRESSION_METRICS = ['rmse', 'mae', 'r2', 'smape'];

/** Direction of a metric: the evaluation says it for the primary one; the rest come from core/schemas/metric-directions.ts. */
export function higherIsBetter(metric: string, ev: Pick<Evaluation, 'primary_metric' | 'higher_is_better'>): boolean {
  return metric === ev.primary_metric ? ev.higher_is_better : metricDirection(metric) !== 'lower';
}

/** Metric values in one fixed format: 4 decimals, 1 for values of 1,000 and more. */
export function formatMetric(x: number | null): string {
  if (x === null) return '—';
  return Math.abs(x) >= 1000 ? x.toFixed(1) : x.toFixed(4);
}

/**
 * `▲ +0.0123 (better)`: the arrow shows which way the number moved, the word whether that is good
 * for this metric (a falling log loss is better). Differences that round to zero read `= 0.0000`.
 */
export function formatDelta(current: number | null, reference: number | null, higherBetter: boolean): string {
  if (current === null || reference === null) return '—';
  const d = current - reference;
  const text = formatMetric(Math.abs(d));
  if (Number(text) === 0) return `= ${text}`;
  const better = higherBetter ? d > 0 : d < 0;
  return `${d > 0 ? '▲ +' : '▼ -'}${text} (${better ? 'better' : 'worse'})`;
}

export interface HeadlineRow {
  metric: string;
  primary: boolean;
  current: number | null;
  production: number | null;
  baseline: number | null;
  /** Which baseline the metric is compared with (null: the evaluation does not say). */
  baselineKind: string | null;
  higherBetter: boolean;
}

/** How the report names each baseline (metrics/evaluate.json baseline_kinds). */
const BASELINE_NAMES: Record<string, string> = {
  majority_class: 'majority class',
  class_prior: 'class prior',
  train_mean: 'train mean',
};

export function headlineRows(ev: Evaluation, register: Input<Registration>): HeadlineRow[] {
  const known = ev.task === 'classification' ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
  const names = [ev.primary_metric, ...known.filter((m) => m !== ev.primary_metric && metricOf(ev.test, m) !== null)];
  const prod = register.ok ? register.value.production_before : null;
  return names.map((metric) => {
    let production: number | null = null;
    if (prod) production = prod.metrics?.[metric] ?? (metric === ev.primary_metric ? prod.metric : null);
    return {
      metric,
      primary: metric === ev.primary_metric,
      current: metricOf(ev.test, metric),
      production: production !== null && Number.isFinite(production) ? production : null,
      baseline: metricOf(ev.baseline, metric),
      baselineKind: ev.baseline_kinds?.[metric] ?? null,
      higherBetter: higherIsBetter(metric, ev),
    };
  });
}

export function headlineTable(rows: HeadlineRow[], register: Input<Registration>): string {
  const prod = register.ok ? register.value.production_before : null;
  const prodHeader = prod ? `production v${prod.version}` : 'production';
  // Name the baseline beside its value when the rows compare with more than one.
  const several = new Set(rows.map((r) => r.baselineKind).filter((k) => k !== null)).size > 1;
  const baselineCell = (r: HeadlineRow) =>
    several && r.baselineKind && r.baseline !== null
      ? `${formatMetric(r.baseline)} (${BASELINE_NAMES[r.baselineKind] ?? r.baselineKind})`
      : formatMetric(r.baseline);
  const body = rows.map((r) => [
    raw(r.primary ? `**${r.metric}** (primary)` : r.metric),
    formatMetric(r.current),
    formatMetric(r.production),
    formatDelta(r.current, r.production, r.higherBetter),
    baselineCell(r),
    formatDelta(r.current, r.baseline, r.higherBetter),
  ]);
  const out = [
    table(['metric', 'this run', prodHeader, 'Δ vs production', 'baseline', 'Δ vs baseline'], body, [
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
    ]),
  ];
  if (several)
    out.push(
      '',
      '_Baselines: the decision metrics (accuracy, precision, recall, F1, macro-F1) are compared with the majority class predicted for every row, the probability metrics (ROC-AUC, PR-AUC, log loss, ECE) with the class prior (the training class frequencies as every probability)._',
    );
  if (!register.ok) out.push('', `_No production comparison: ${register.why}._`);
  else if (!prod) out.push('', '_No production model before this run, so there is nothing to compare against yet._');
  else
    out.push(
      '',
      `_Production v${prod.version} was re-scored on this run's test rows, so the columns compare like with like. Arrows show which way a number moved; the word says whether that is good for the metric._`,
    );
  return out.join('\n');
}
