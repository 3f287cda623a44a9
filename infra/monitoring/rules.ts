/**
 * Prometheus rule groups generated from slo.ts: error-ratio recording rules per SLO and window,
 * multi-window multi-burn-rate alerts, and the model-health and outage alerts.
 */
import { stringify } from 'yaml';
import { fleetRuleGroups } from './fleet-rules.ts';
import { BURN_RATE_ALERTS, DAY, JOB, MODEL_SLOS, RATIO_SLOS, WINDOWS, recordName, type RatioSlo } from './slo.ts';

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}
export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export type Rule = RecordingRule | AlertingRule;
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

export interface RuleOptions {
  /** `for:` of ModelLoadFailure (default 0s: one refused model is already worth a look). */
  loadFailureFor?: string;
}

const pct = (x: number) => `${+(x * 100).toFixed(4)} %`;

function recordingRules(slo: RatioSlo): RecordingRule[] {
  return WINDOWS.map((w) => ({
    record: recordName(slo, w),
    expr: `${slo.bad(w)}\n/\n${slo.total(w)}`,
    labels: { slo: slo.id },
  }));
}

function burnRateAlerts(slo: RatioSlo): AlertingRule[] {
  const budget = 1 - slo.objective;
  const out: AlertingRule[] = [];
  for (const severity of ['page', 'ticket'] as const) {
    const conditions = BURN_RATE_ALERTS.filter((a) => a.severity === severity).map((a) => {
      const threshold = +(a.factor * budget).toPrecision(6);
      return `(\n  ${recordName(slo, a.long)} > ${threshold}\nand\n  ${recordName(slo, a.short)} > ${threshold}\n)`;
    });
    const windows = BURN_RATE_ALERTS.filter((a) => a.severity === severity).map(
      (a) => `${a.factor}× over ${a.long} and ${a.short} (${a.budgetSpent})`,
    );
    out.push({
      alert: `${slo.alert}BurnRate${severity === 'page' ? 'Page' : 'Ticket'}`,
      expr: conditions.join('\nor\n'),
      for: severity === 'page' ? '2m' : '15m',
      labels: { severity, slo: slo.id },
      annotations: {
        summary: `${slo.id} SLO error budget burning too fast on {{ $labels.job }}`,
        description: `${slo.sli} Objective ${pct(slo.objective)} over ${slo.periodDays} days. Burn-rate condition: ${windows.join('; or ')}.`,
        runbook_url: 'infra/monitoring/README.md#alerts',
      },
    });
  }
  return out;
}

function modelAlerts(options: RuleOptions): AlertingRule[] {
  const { freshness, liveQuality, drift } = MODEL_SLOS;
  return [
    {
      alert: 'ModelDatasetDrift',
      expr: 'fleet:model_dataset_drift == 1',
      for: `${drift.forMinutes}m`,
      labels: { severity: 'ticket' },
      annotations: {
        summary: 'Input data of {{ $labels.model }} v{{ $labels.version }} drifted from the training data',
        description:
          "Over the last hour of every replica's traffic, the share of drifted input features (fleet:model_dataset_drift_share) has reached the configured threshold for 30 minutes. See fleet:model_drift_score on the Model dashboard; retrain on recent data.",
        runbook_url: 'infra/monitoring/README.md#alerts',
      },
    },
    {
      alert: 'ModelLiveQualityDegraded',
      expr: `fleet:model_live_quality{metric="${liveQuality.metric}"} < ${liveQuality.min}\nand ignoring (metric, task)\nfleet:model_feedback_samples >= ${liveQuality.minSamples}`,
      for: '30m',
      labels: { severity: 'page', slo: 'live_quality' },
      annotations: {
        summary: 'Live {{ $labels.metric }} of {{ $labels.model }} is {{ $value | printf "%.3f" }}',
        description: `Measured over the last hour on every replica's predictions joined with true labels: ${liveQuality.metric} below ${liveQuality.min} with at least ${liveQuality.minSamples} labelled samples. Roll back to the previous production version or retrain.`,
        runbook_url: 'infra/monitoring/README.md#alerts',
      },
    },
    {
      alert: 'ModelStale',
      expr: `model_age_seconds > ${freshness.maxAgeDays * DAY}`,
      for: '10m',
      labels: { severity: 'ticket', slo: 'freshness' },
      annotations: {
        summary: 'The served {{ $labels.model }} model is older than 30 days',
        description: `model_age_seconds is {{ $value | humanizeDuration }}; the objective is a production model trained within ${freshness.maxAgeDays} days. Check the training workflow on the model branch.`,
        runbook_url: 'infra/monitoring/README.md#alerts',
      },
    },
    {
      alert: 'ModelLoadFailure',
      // A counter series is born at its first failure (value 1), which increase() cannot see:
      // the second arm catches a series that did not exist 15 minutes ago.
      expr: 'increase(model_load_failures_total[15m]) > 0\nor\n(model_load_failures_total > 0 unless model_load_failures_total offset 15m)',
      for: options.loadFailureFor ?? '0s',
      labels: { severity: 'ticket' },
      annotations: {
        summary: 'A {{ $labels.model }} version was refused at load ({{ $labels.reason }})',
        description:
          'The registry promoted a bundle the API would not serve (unreadable, warm-up failed or golden examples differ); the previous version keeps serving. Fix or demote the production version.',
        runbook_url: 'infra/monitoring/README.md#alerts',
      },
    },
  ];
}

/**
 * Any non-finite output: the model fails on an input that passed validation (answered 503, or a
 * per-row error in a batch). Weights and calibration are checked finite at register, promote and
 * load, so this is a fault the checks missed; past api/output-health.ts's bound the pods also turn
 * unready. A page: every replica serves the same model, so only a rollback helps.
 */
const nonFiniteAlert: AlertingRule = {
  alert: 'ModelNonFiniteOutputs',
  // The second arm catches a series born at its first failures (increase() cannot see those).
  expr: 'increase(model_non_finite_outputs_total[10m]) > 0\nor\n(model_non_finite_outputs_total > 0 unless model_non_finite_outputs_total offset 10m)',
  labels: { severity: 'page' },
  annotations: {
    summary: '{{ $labels.model }} gave no finite output for some inputs on {{ $labels.instance }}',
    description:
      'model_non_finite_outputs_total grew: valid inputs got NaN or ±Infinity (answered as errors). Past 5 rows and 0.5 % of the last 10,000, /readyz turns 503. Roll back the production version (registry rollback) or retrain.',
    runbook_url: 'infra/monitoring/README.md#alerts',
  },
};

/**
 * The shared feedback dedupe store (Redis, FEEDBACK_DEDUPE_URL) failing for ten minutes: labels
 * are answered 503 (retry later) meanwhile, so live quality stops moving. Predictions do not
 * depend on it, hence a ticket, not a page.
 */
const dedupeAlert: AlertingRule = {
  alert: 'FeedbackDedupeUnavailable',
  expr: 'sum without (instance, pod, reason) (rate(feedback_dedupe_errors_total[5m])) > 0',
  for: '10m',
  labels: { severity: 'ticket' },
  annotations: {
    summary: 'The feedback dedupe store fails for {{ $labels.job }}',
    description:
      'feedback_dedupe_errors_total has grown for 10 minutes: POST /feedback answers 503 (retry later), so labels wait and live quality does not move. Check the feedback-dedupe Redis pod (kubectl get pods -l app.kubernetes.io/name=flight-delay-feedback-dedupe) and FEEDBACK_DEDUPE_URL.',
    runbook_url: 'infra/monitoring/README.md#alerts',
  },
};

export function ruleGroups(options: RuleOptions = {}): RuleGroup[] {
  return [
    { name: 'slo-recording', rules: RATIO_SLOS.flatMap(recordingRules) },
    ...fleetRuleGroups(),
    { name: 'slo-burn-rate', rules: RATIO_SLOS.flatMap(burnRateAlerts) },
    { name: 'model-health', rules: modelAlerts(options) },
    { name: 'model-numerics', rules: [nonFiniteAlert] },
    { name: 'feedback', rules: [dedupeAlert] },
    {
      name: 'service',
      rules: [
        {
          alert: 'APIDown',
          expr: `up{job="${JOB}"} == 0`,
          for: '1m',
          labels: { severity: 'page', slo: 'availability' },
          annotations: {
            summary: 'Prometheus cannot scrape {{ $labels.instance }}',
            description:
              'The inference API target has been down for 1 minute. Check the pods (kubectl get pods), their logs and /healthz.',
            runbook_url: 'infra/monitoring/README.md#alerts',
          },
        },
      ],
    },
  ];
}

const HEADER = '# Generated by infra/monitoring/generate.ts from infra/monitoring/slo.ts — do not edit by hand.\n';

export function renderRules(options: RuleOptions = {}): string {
  return HEADER + stringify({ groups: ruleGroups(options) }, { lineWidth: 0 });
}
