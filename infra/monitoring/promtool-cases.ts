/**
 * The promtool unit tests of the alerting rules, as data. generate.ts writes them to
 * prometheus/tests/<file>.yml with each expected alert's annotations rendered from the rule that
 * fires it (promtool-tests.ts), so the committed files pass `promtool test rules` as they are
 * and cannot drift from slo.ts. `value` is the alert's $value at eval_time, for annotations that
 * print it (promtool compares the rendered text).
 */

import { fleetAlertCases } from './promtool-fleet-alerts.ts';

export interface ExpectedAlert {
  exp_labels: Record<string, string>;
  value?: number;
}
export interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpectedAlert[];
}
export interface RuleTestCase {
  name: string;
  interval: string;
  input_series: { series: string; values: string }[];
  promql_expr_test?: { expr: string; eval_time: string; exp_samples: { labels: string; value: number }[] }[];
  alert_rule_test?: AlertTest[];
}
export interface RuleTestFile {
  about: string;
  tests: RuleTestCase[];
}

export const RULE_TEST_FILES: Record<string, RuleTestFile> = {
  availability: {
    about: 'Availability SLO: recording rules and burn-rate alerts on synthetic request counters.',
    tests: [
      {
        name: '2 % of prediction requests fail for an hour, then none - the page fires, then resolves',
        interval: '1m',
        input_series: [
          {
            series: 'http_requests_total{job="gitops-ml-api",route="/predict",method="POST",status="200"}',
            values: '0+980x180',
          },
          {
            series: 'http_requests_total{job="gitops-ml-api",route="/predict",method="POST",status="500"}',
            values: '0+20x60 1200+0x120',
          },
        ],
        promql_expr_test: [
          {
            expr: 'job:slo_availability_errors:ratio_rate5m',
            eval_time: '10m',
            exp_samples: [
              {
                labels: 'job:slo_availability_errors:ratio_rate5m{job="gitops-ml-api",slo="availability"}',
                value: 0.02,
              },
            ],
          },
        ],
        alert_rule_test: [
          {
            eval_time: '10m',
            alertname: 'SLOAvailabilityBurnRatePage',
            exp_alerts: [{ exp_labels: { job: 'gitops-ml-api', slo: 'availability', severity: 'page' } }],
          },
          { eval_time: '100m', alertname: 'SLOAvailabilityBurnRatePage', exp_alerts: [] },
        ],
      },
      {
        name: '0.05 % of prediction requests fail (and /metrics fails a lot) - no page, no ticket',
        interval: '1m',
        input_series: [
          {
            series: 'http_requests_total{job="gitops-ml-api",route="/predict",method="POST",status="200"}',
            values: '0+1000x180',
          },
          {
            series:
              'http_requests_total{job="gitops-ml-api",route="/v1/models/flight-delay:predict",method="POST",status="200"}',
            values: '0+999x180',
          },
          {
            series: 'http_requests_total{job="gitops-ml-api",route="/predict",method="POST",status="503"}',
            values: '0+1x180',
          },
          {
            series: 'http_requests_total{job="gitops-ml-api",route="/metrics",method="GET",status="500"}',
            values: '0+500x180',
          },
        ],
        promql_expr_test: [
          {
            expr: 'job:slo_availability_errors:ratio_rate1h',
            eval_time: '90m',
            exp_samples: [
              {
                labels: 'job:slo_availability_errors:ratio_rate1h{job="gitops-ml-api",slo="availability"}',
                value: 0.0005,
              },
            ],
          },
        ],
        alert_rule_test: [
          { eval_time: '10m', alertname: 'SLOAvailabilityBurnRatePage', exp_alerts: [] },
          { eval_time: '90m', alertname: 'SLOAvailabilityBurnRatePage', exp_alerts: [] },
          { eval_time: '180m', alertname: 'SLOAvailabilityBurnRateTicket', exp_alerts: [] },
        ],
      },
      {
        name: 'no 5xx at all - the error ratio is 0, not absent',
        interval: '1m',
        input_series: [
          {
            series: 'http_requests_total{job="gitops-ml-api",route="/predict",method="POST",status="200"}',
            values: '0+100x20',
          },
        ],
        promql_expr_test: [
          {
            expr: 'job:slo_availability_errors:ratio_rate5m',
            eval_time: '10m',
            exp_samples: [
              { labels: 'job:slo_availability_errors:ratio_rate5m{job="gitops-ml-api",slo="availability"}', value: 0 },
            ],
          },
        ],
      },
      {
        name: '0.2 % errors for 7 hours - a ticket (3d and 6h at 1x), never a page',
        interval: '5m',
        input_series: [
          {
            series: 'http_requests_total{job="gitops-ml-api",route="/predict",method="POST",status="200"}',
            values: '0+4990x100',
          },
          {
            series: 'http_requests_total{job="gitops-ml-api",route="/predict",method="POST",status="500"}',
            values: '0+10x100',
          },
        ],
        alert_rule_test: [
          {
            eval_time: '7h',
            alertname: 'SLOAvailabilityBurnRateTicket',
            exp_alerts: [{ exp_labels: { job: 'gitops-ml-api', slo: 'availability', severity: 'ticket' } }],
          },
          { eval_time: '7h', alertname: 'SLOAvailabilityBurnRatePage', exp_alerts: [] },
        ],
      },
    ],
  },
  latency: {
    about: 'Latency SLO: burn-rate alerts on a synthetic duration histogram.',
    tests: [
      {
        name: '20 % of prediction requests slower than 100 ms for an hour - the page fires, then resolves',
        interval: '1m',
        input_series: [
          {
            series: 'http_request_duration_seconds_count{job="gitops-ml-api",route="/predict",method="POST"}',
            values: '0+100x180',
          },
          {
            series: 'http_request_duration_seconds_bucket{job="gitops-ml-api",route="/predict",method="POST",le="0.1"}',
            values: '0+80x60 4800+100x120',
          },
        ],
        promql_expr_test: [
          {
            expr: 'round(job:slo_latency_errors:ratio_rate5m, 0.0001)',
            eval_time: '10m',
            exp_samples: [{ labels: '{job="gitops-ml-api",slo="latency"}', value: 0.2 }],
          },
        ],
        alert_rule_test: [
          {
            eval_time: '10m',
            alertname: 'SLOLatencyBurnRatePage',
            exp_alerts: [{ exp_labels: { job: 'gitops-ml-api', slo: 'latency', severity: 'page' } }],
          },
          { eval_time: '100m', alertname: 'SLOLatencyBurnRatePage', exp_alerts: [] },
        ],
      },
      {
        name: '0.5 % slow requests - within the 1 % budget, nothing fires',
        interval: '1m',
        input_series: [
          {
            series: 'http_request_duration_seconds_count{job="gitops-ml-api",route="/predict",method="POST"}',
            values: '0+200x180',
          },
          {
            series: 'http_request_duration_seconds_bucket{job="gitops-ml-api",route="/predict",method="POST",le="0.1"}',
            values: '0+199x180',
          },
        ],
        alert_rule_test: [
          { eval_time: '30m', alertname: 'SLOLatencyBurnRatePage', exp_alerts: [] },
          { eval_time: '180m', alertname: 'SLOLatencyBurnRateTicket', exp_alerts: [] },
        ],
      },
    ],
  },
  model: {
    about: 'Model health alerts: dataset drift, live quality, staleness, load failures; and APIDown.',
    tests: [
      ...fleetAlertCases(),
      {
        name: 'model ages past 30 days - stale; a new model resolves it',
        interval: '1m',
        input_series: [
          // 30 days = 2,592,000 s; the age crosses it after ~17 minutes; a new model at 61m resets it.
          {
            series: 'model_age_seconds{job="gitops-ml-api",instance="api:8080",model="flight-delay"}',
            values: '2591000+60x60 100+60x30',
          },
        ],
        alert_rule_test: [
          { eval_time: '15m', alertname: 'ModelStale', exp_alerts: [] },
          {
            eval_time: '40m',
            alertname: 'ModelStale',
            exp_alerts: [
              {
                exp_labels: {
                  job: 'gitops-ml-api',
                  instance: 'api:8080',
                  model: 'flight-delay',
                  severity: 'ticket',
                  slo: 'freshness',
                },
                value: 2591000 + 60 * 40, // the age series at 40m: 2,593,400 s, i.e. 30d 0h 23m 20s
              },
            ],
          },
          { eval_time: '70m', alertname: 'ModelStale', exp_alerts: [] },
        ],
      },
      {
        name: 'load failures - a counter born at 1 fires at once, a later increment fires again, both resolve',
        interval: '1m',
        input_series: [
          {
            series:
              'model_load_failures_total{job="gitops-ml-api",instance="api:8080",model="flight-delay",reason="golden_mismatch"}',
            values: '_x10 1x30 2x30',
          },
        ],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'ModelLoadFailure', exp_alerts: [] },
          {
            eval_time: '12m',
            alertname: 'ModelLoadFailure',
            exp_alerts: [
              {
                exp_labels: {
                  job: 'gitops-ml-api',
                  instance: 'api:8080',
                  model: 'flight-delay',
                  reason: 'golden_mismatch',
                  severity: 'ticket',
                },
              },
            ],
          },
          { eval_time: '35m', alertname: 'ModelLoadFailure', exp_alerts: [] },
          {
            eval_time: '45m',
            alertname: 'ModelLoadFailure',
            exp_alerts: [
              {
                exp_labels: {
                  job: 'gitops-ml-api',
                  instance: 'api:8080',
                  model: 'flight-delay',
                  reason: 'golden_mismatch',
                  severity: 'ticket',
                },
              },
            ],
          },
          { eval_time: '65m', alertname: 'ModelLoadFailure', exp_alerts: [] },
        ],
      },
      {
        name: 'the API target stops answering scrapes - APIDown after 1 minute, resolved when back',
        interval: '1m',
        input_series: [{ series: 'up{job="gitops-ml-api",instance="api:8080"}', values: '1x4 0x5 1x10' }],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'APIDown', exp_alerts: [] },
          {
            eval_time: '8m',
            alertname: 'APIDown',
            exp_alerts: [
              { exp_labels: { job: 'gitops-ml-api', instance: 'api:8080', severity: 'page', slo: 'availability' } },
            ],
          },
          { eval_time: '15m', alertname: 'APIDown', exp_alerts: [] },
        ],
      },
    ],
  },
  'non-finite': {
    about: 'ModelNonFiniteOutputs: a served model gives no finite output for some valid inputs.',
    tests: [
      {
        name: 'rows fail at minute 5 (the series is born then), none after - the page fires at once, then resolves',
        interval: '1m',
        input_series: [
          {
            series: 'model_non_finite_outputs_total{job="gitops-ml-api",instance="api:8080",model="flight-delay"}',
            values: '_ _ _ _ _ 3x30',
          },
        ],
        alert_rule_test: [
          { eval_time: '4m', alertname: 'ModelNonFiniteOutputs', exp_alerts: [] },
          {
            eval_time: '6m',
            alertname: 'ModelNonFiniteOutputs',
            exp_alerts: [
              {
                exp_labels: {
                  job: 'gitops-ml-api',
                  instance: 'api:8080',
                  model: 'flight-delay',
                  severity: 'page',
                },
              },
            ],
          },
          { eval_time: '20m', alertname: 'ModelNonFiniteOutputs', exp_alerts: [] },
        ],
      },
    ],
  },
  'feedback-dedupe': {
    about: 'FeedbackDedupeUnavailable: the shared feedback dedupe store fails for 10 minutes.',
    tests: [
      {
        name: 'claims fail from minute 2 to minute 30 on two replicas - a ticket after 10 minutes of it, resolved after',
        interval: '1m',
        input_series: [
          {
            series: 'feedback_dedupe_errors_total{job="gitops-ml-api",instance="api-0:8080",reason="timeout"}',
            values: '_ _ 0+5x28 140x30',
          },
          {
            series: 'feedback_dedupe_errors_total{job="gitops-ml-api",instance="api-1:8080",reason="disconnected"}',
            values: '_ _ 0+2x28 56x30',
          },
        ],
        alert_rule_test: [
          { eval_time: '8m', alertname: 'FeedbackDedupeUnavailable', exp_alerts: [] },
          {
            eval_time: '20m',
            alertname: 'FeedbackDedupeUnavailable',
            exp_alerts: [{ exp_labels: { job: 'gitops-ml-api', severity: 'ticket' } }],
          },
          { eval_time: '45m', alertname: 'FeedbackDedupeUnavailable', exp_alerts: [] },
        ],
      },
    ],
  },
};
