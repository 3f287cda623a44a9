/**
 * The model alerts that read fleet rules (ModelLiveQualityDegraded, ModelDatasetDrift), driven by
 * the counters the replicas export, for prometheus/tests/model.yml.
 */
import type { RuleTestCase } from './promtool-cases.ts';

const POD = { job: 'gitops-ml-api', instance: 'api:8080', model: 'flight-delay', version: '1' };
const sel = (name: string, more: Record<string, string>) =>
  `${name}{${Object.entries({ ...POD, ...more })
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

export function fleetAlertCases(): RuleTestCase[] {
  // All negatives in score bin 5; per minute 5 positives in bin 15 (they beat every negative) and
  // 45 in bin 5 (ties, half): ROC-AUC (5 + 22.5) / 50 = 0.55 exactly. 100 pairs a minute reach the
  // 500-sample floor at 5m. From 60m on every positive lands in bin 15, and the 1-hour window
  // recovers above 0.60 within ~7 minutes.
  const zero = '0x100';
  return [
    {
      name: 'live ROC AUC 0.55 over the fleet with 6,000 labelled pairs an hour - fires after 30 minutes, resolves on recovery',
      interval: '1m',
      input_series: [
        { series: sel('model_feedback_score_bin_total', { label: '1', bin: '15' }), values: '0+5x60 300+50x40' },
        { series: sel('model_feedback_score_bin_total', { label: '1', bin: '5' }), values: '0+45x60 2700+0x40' },
        { series: sel('model_feedback_score_bin_total', { label: '0', bin: '5' }), values: '0+50x100' },
        { series: sel('model_feedback_score_bin_total', { label: '0', bin: '15' }), values: zero },
        { series: sel('model_feedback_score_below_total', { label: '0', bin: '5' }), values: zero },
        { series: sel('model_feedback_score_below_total', { label: '0', bin: '15' }), values: '0+50x100' },
        { series: sel('model_feedback_pairs_total', {}), values: '0+100x100' },
      ],
      alert_rule_test: [
        { eval_time: '20m', alertname: 'ModelLiveQualityDegraded', exp_alerts: [] },
        {
          eval_time: '45m',
          alertname: 'ModelLiveQualityDegraded',
          exp_alerts: [
            {
              exp_labels: {
                job: 'gitops-ml-api',
                model: 'flight-delay',
                metric: 'roc_auc',
                severity: 'page',
                slo: 'live_quality',
              },
              value: 0.55,
            },
          ],
        },
        { eval_time: '85m', alertname: 'ModelLiveQualityDegraded', exp_alerts: [] },
      ],
    },
    {
      name: 'live ROC AUC 0.55 on only 100 labelled pairs in the hour - too noisy, no alert',
      interval: '1m',
      input_series: [
        { series: sel('model_feedback_score_bin_total', { label: '1', bin: '15' }), values: '0+0.1x100' },
        { series: sel('model_feedback_score_bin_total', { label: '1', bin: '5' }), values: '0+0.9x100' },
        { series: sel('model_feedback_score_bin_total', { label: '0', bin: '5' }), values: '0+1x100' },
        { series: sel('model_feedback_score_bin_total', { label: '0', bin: '15' }), values: zero },
        { series: sel('model_feedback_score_below_total', { label: '0', bin: '5' }), values: zero },
        { series: sel('model_feedback_score_below_total', { label: '0', bin: '15' }), values: '0+1x100' },
        { series: sel('model_feedback_pairs_total', {}), values: '0+2x100' },
      ],
      alert_rule_test: [{ eval_time: '60m', alertname: 'ModelLiveQualityDegraded', exp_alerts: [] }],
    },
    {
      // Reference: origin half ATL, half ORD. For 60 minutes every request is from ATL (Jensen–Shannon
      // 0.56 ≥ 0.1), then the mix is back to half and half; the 1-hour window forgets the shift.
      name: 'dataset drift over the fleet for 60 minutes - fires after 30 minutes, resolves when the last hour is unshifted',
      interval: '1m',
      input_series: [
        {
          series: sel('model_drift_served_total', { feature: 'origin', kind: 'categorical', bin: '0' }),
          values: '0+100x60 6000+50x90',
        },
        {
          series: sel('model_drift_served_total', { feature: 'origin', kind: 'categorical', bin: '1' }),
          values: '0x60 0+50x90',
        },
        {
          series: sel('model_drift_reference_share', { feature: 'origin', kind: 'categorical', bin: '0' }),
          values: '0.5x150',
        },
        {
          series: sel('model_drift_reference_share', { feature: 'origin', kind: 'categorical', bin: '1' }),
          values: '0.5x150',
        },
      ],
      alert_rule_test: [
        { eval_time: '30m', alertname: 'ModelDatasetDrift', exp_alerts: [] },
        {
          eval_time: '45m',
          alertname: 'ModelDatasetDrift',
          exp_alerts: [
            { exp_labels: { job: 'gitops-ml-api', model: 'flight-delay', version: '1', severity: 'ticket' } },
          ],
        },
        { eval_time: '140m', alertname: 'ModelDatasetDrift', exp_alerts: [] },
      ],
    },
  ];
}
