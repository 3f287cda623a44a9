/** Model dashboard: predictions, drift, live quality, version history (swap annotations), age, input anomalies. */
import { AnnotationQueryBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { BigValueTextMode } from '@grafana/grafana-foundation-sdk/common';
import { DAY, MODEL_SLOS } from '../slo.ts';
import { DS, SEL, baseDashboard, row, stat, timeseries } from './common.ts';

const R = '$__rate_interval';
const pq = (quantile: number) => ({
  expr: `histogram_quantile(${quantile}, sum by (le) (rate(model_prediction_value_bucket{${SEL}}[${R}])))`,
  legend: `p${Math.round(quantile * 100)}`,
});

/** Annotation expression: a marker wherever the served version changed. */
export const SWAP_ANNOTATION_EXPR = `sum by (model) (increase(model_swaps_total{${SEL}}[2m])) > 0`;

export function modelDashboard(): Dashboard {
  const { freshness, liveQuality } = MODEL_SLOS;
  return baseDashboard('gitops-ml-model', 'gitops-ml · Model health', ['model', 'drift'])
    .annotation(
      new AnnotationQueryBuilder()
        .name('Model swaps')
        .datasource(DS)
        .enable(true)
        .iconColor('orange')
        .expr(SWAP_ANNOTATION_EXPR)
        .step('1m')
        .titleFormat('Model swap')
        .textFormat('{{model}}: the served version changed')
        .tagKeys('model'),
    )
    .withRow(row('Serving'))
    .withPanel(
      stat(
        'Served version',
        'model_info of the model being served.',
        'none',
        [
          {
            expr: `max by (name, version, stage, backend) (model_info{${SEL}})`,
            legend: '{{name}} v{{version}} ({{stage}}, {{backend}})',
          },
        ],
        8,
      ).textMode(BigValueTextMode.Name),
    )
    .withPanel(
      stat(
        'Model age',
        `Time since the served model was trained; objective: under ${freshness.maxAgeDays} days.`,
        's',
        [{ expr: `max by (model) (model_age_seconds{${SEL}})`, legend: '{{model}}' }],
        8,
      ),
    )
    .withPanel(
      stat(
        `Live ${liveQuality.metric}`,
        `Live ${liveQuality.metric} over the last hour of feedback joined on every replica (fleet:model_live_quality, from summed counters); objective ≥ ${liveQuality.min} with ≥ ${liveQuality.minSamples} samples.`,
        'none',
        [
          {
            expr: `max by (model) (fleet:model_live_quality{${SEL},metric="${liveQuality.metric}"})`,
            legend: '{{model}}',
          },
        ],
        8,
      ),
    )
    .withPanel(
      timeseries(
        'Model version over time',
        'Which version each instance served (model_info); annotations mark swaps.',
        'none',
        [{ expr: `max by (version, backend) (model_info{${SEL}})`, legend: 'v{{version}} ({{backend}})' }],
      ),
    )
    .withPanel(
      timeseries(
        'Model age (days)',
        `Freshness SLI; the ModelStale alert fires above ${freshness.maxAgeDays} days.`,
        'd',
        [{ expr: `max by (model) (model_age_seconds{${SEL}}) / ${DAY}`, legend: '{{model}}' }],
      ),
    )
    .withRow(row('Predictions'))
    .withPanel(
      timeseries(
        'Predictions per second by class',
        'model_predictions_total by predicted class and version.',
        'reqps',
        [
          {
            expr: `sum by (class, version) (rate(model_predictions_total{${SEL}}[${R}]))`,
            legend: 'class {{class}} v{{version}}',
          },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Predicted value distribution',
        'Quantiles of the predicted probability (classification) or value (regression).',
        'none',
        [pq(0.1), pq(0.5), pq(0.9)],
      ),
    )
    .withRow(row('Drift'))
    .withPanel(
      timeseries(
        'Drift score per feature',
        "Fleet drift per feature over the last hour of every replica's traffic (fleet:model_drift_score: normalised Wasserstein for numeric features and the prediction, Jensen–Shannon for categorical ones; drift at ≥ 0.1).",
        'none',
        [
          {
            expr: `max by (feature, method, version) (fleet:model_drift_score{${SEL}})`,
            legend: '{{feature}} ({{method}}) v{{version}}',
          },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Dataset drift share',
        "Share of input features that drifted over the fleet's last hour; fleet:model_dataset_drift = 1 past the configured share.",
        'percentunit',
        [
          { expr: `max by (model) (fleet:model_dataset_drift_share{${SEL}})`, legend: 'drifted share {{model}}' },
          { expr: `max by (model) (fleet:model_dataset_drift{${SEL}})`, legend: 'dataset drift {{model}}' },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Drifted features',
        'fleet:model_drift_detected per feature (1 = drifted; no value below 1,001 served values in the hour).',
        'none',
        [{ expr: `max by (feature) (fleet:model_drift_detected{${SEL}})`, legend: '{{feature}}' }],
        24,
      ),
    )
    .withRow(row('Live quality (labels via /feedback)'))
    .withPanel(
      timeseries(
        'Live quality',
        'Fleet quality over the last hour of joined feedback (fleet:model_live_quality).',
        'none',
        [
          {
            expr: `max by (model, metric) (fleet:model_live_quality{${SEL}})`,
            legend: '{{metric}} {{model}}',
          },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Feedback and labelled samples',
        'Feedback by outcome per second (summed over replicas), and joined pairs in the last hour.',
        'none',
        [
          { expr: `sum by (outcome) (rate(model_feedback_total{${SEL}}[${R}]))`, legend: '{{outcome}} /s' },
          {
            expr: `max by (model) (fleet:model_feedback_samples{${SEL}})`,
            legend: 'joined in the last hour {{model}}',
          },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Prediction error (predicted − actual)',
        'Median and p90 of the prediction error on joined feedback.',
        'none',
        [
          {
            expr: `histogram_quantile(0.5, sum by (le) (rate(model_prediction_error_bucket{${SEL}}[${R}])))`,
            legend: 'p50',
          },
          {
            expr: `histogram_quantile(0.9, sum by (le) (rate(model_prediction_error_bucket{${SEL}}[${R}])))`,
            legend: 'p90',
          },
        ],
        24,
      ),
    )
    .withRow(row('Input anomalies and loading'))
    .withPanel(
      timeseries(
        'Unknown categories per feature',
        'Input values outside the training vocabulary, per second.',
        'reqps',
        [
          {
            expr: `sum by (feature) (rate(model_unknown_category_total{${SEL}}[${R}]))`,
            legend: 'unknown {{feature}}',
          },
          {
            expr: `sum by (feature) (rate(model_unseen_category_values_total{${SEL}}[${R}]))`,
            legend: 'unseen (monitor) {{feature}}',
          },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Out-of-range and rejected inputs',
        'Numeric inputs outside the training range; fields rejected by validation.',
        'reqps',
        [
          {
            expr: `sum by (feature) (rate(model_out_of_range_values_total{${SEL}}[${R}]))`,
            legend: 'out of range {{feature}}',
          },
          { expr: `sum by (field) (rate(model_rejected_fields_total{${SEL}}[${R}]))`, legend: 'rejected {{field}}' },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Model load failures and swaps',
        'Versions refused at load (by reason) and version changes, in the last 15 minutes.',
        'none',
        [
          { expr: `sum by (reason) (increase(model_load_failures_total{${SEL}}[15m]))`, legend: 'refused: {{reason}}' },
          { expr: `sum (increase(model_swaps_total{${SEL}}[15m]))`, legend: 'swaps' },
        ],
        24,
      ),
    )
    .build();
}
