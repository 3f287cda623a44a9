/** Service dashboard: the four golden signals of the inference API (traffic, errors, latency, saturation). */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { LATENCY_THRESHOLD_SECONDS, PREDICT_ROUTE_RE, RATIO_SLOS } from '../slo.ts';
import { SEL, baseDashboard, row, stat, timeseries } from './common.ts';

const P = `${SEL},route=~"${PREDICT_ROUTE_RE}"`;
const R = '$__rate_interval';
const q = (quantile: number) => ({
  expr: `histogram_quantile(${quantile}, sum by (le) (rate(http_request_duration_seconds_bucket{${P}}[${R}])))`,
  legend: `p${Math.round(quantile * 100)}`,
});
const [availability, latency] = RATIO_SLOS;

export function serviceDashboard(): Dashboard {
  const avail30d = `1 - (sum(rate(http_requests_total{${P},status=~"5.."}[30d])) / sum(rate(http_requests_total{${P}}[30d])))`;
  return baseDashboard('gitops-ml-service', 'gitops-ml · Service (golden signals)', ['service', 'golden-signals'])
    .withRow(row('SLOs (30 days)'))
    .withPanel(
      stat('Availability (30 d)', `${availability.sli} Objective ${availability.objective * 100} %.`, 'percentunit', [
        { expr: avail30d, legend: 'availability' },
      ]),
    )
    .withPanel(
      stat('Availability error budget left', 'Share of the 30-day error budget not yet spent.', 'percentunit', [
        { expr: `1 - (1 - (${avail30d})) / ${+(1 - availability.objective).toFixed(6)}`, legend: 'budget left' },
      ]),
    )
    .withPanel(
      stat(
        `Requests under ${LATENCY_THRESHOLD_SECONDS * 1000} ms (30 d)`,
        `${latency.sli} Objective ${latency.objective * 100} %.`,
        'percentunit',
        [
          {
            expr: `sum(rate(http_request_duration_seconds_bucket{${P},le="${LATENCY_THRESHOLD_SECONDS}"}[30d])) / sum(rate(http_request_duration_seconds_count{${P}}[30d]))`,
            legend: 'fast',
          },
        ],
      ),
    )
    .withPanel(
      stat('Targets up', 'Scraped API instances that answer.', 'none', [{ expr: `sum(up{${SEL}})`, legend: 'up' }]),
    )
    .withRow(row('Traffic'))
    .withPanel(
      timeseries('Requests per second by route', 'rate(http_requests_total) by route.', 'reqps', [
        { expr: `sum by (route) (rate(http_requests_total{${SEL}}[${R}]))`, legend: '{{route}}' },
      ]),
    )
    .withPanel(
      timeseries('Requests per second by status', 'Prediction routes, by HTTP status.', 'reqps', [
        { expr: `sum by (status) (rate(http_requests_total{${P}}[${R}]))`, legend: '{{status}}' },
      ]),
    )
    .withRow(row('Errors'))
    .withPanel(
      timeseries(
        'Error ratio (5xx) — burn-rate windows',
        'Recording rules used by the availability burn-rate alerts.',
        'percentunit',
        [
          { expr: `job:slo_availability_errors:ratio_rate5m{${SEL}}`, legend: '5m' },
          { expr: `job:slo_availability_errors:ratio_rate1h{${SEL}}`, legend: '1h' },
          { expr: `job:slo_availability_errors:ratio_rate6h{${SEL}}`, legend: '6h' },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Error ratio by route and class',
        '5xx (server) and 4xx (client) share of requests per route.',
        'percentunit',
        [
          {
            expr: `sum by (route) (rate(http_requests_total{${SEL},status=~"5.."}[${R}])) / sum by (route) (rate(http_requests_total{${SEL}}[${R}]))`,
            legend: '5xx {{route}}',
          },
          {
            expr: `sum by (route) (rate(http_requests_total{${SEL},status=~"4.."}[${R}])) / sum by (route) (rate(http_requests_total{${SEL}}[${R}]))`,
            legend: '4xx {{route}}',
          },
        ],
      ),
    )
    .withRow(row('Latency'))
    .withPanel(
      timeseries(
        'Prediction latency p50 / p95 / p99',
        'histogram_quantile over http_request_duration_seconds (prediction routes).',
        's',
        [q(0.5), q(0.95), q(0.99)],
      ),
    )
    .withPanel(
      timeseries(
        `Slow requests (over ${LATENCY_THRESHOLD_SECONDS * 1000} ms) ratio`,
        'Recording rules used by the latency burn-rate alerts.',
        'percentunit',
        [
          { expr: `job:slo_latency_errors:ratio_rate5m{${SEL}}`, legend: '5m' },
          { expr: `job:slo_latency_errors:ratio_rate1h{${SEL}}`, legend: '1h' },
        ],
      ),
    )
    .withPanel(
      timeseries(
        'Model inference time p99 and batch size',
        'Time of one (coalesced) model call and records per call.',
        's',
        [
          {
            expr: `histogram_quantile(0.99, sum by (le) (rate(model_inference_duration_seconds_bucket{${SEL}}[${R}])))`,
            legend: 'inference p99',
          },
          {
            expr: `sum(rate(model_batch_size_sum{${SEL}}[${R}])) / sum(rate(model_batch_size_count{${SEL}}[${R}]))`,
            legend: 'mean batch size (records)',
          },
        ],
        24,
      ),
    )
    .withRow(row('Saturation'))
    .withPanel(
      timeseries(
        'Requests in flight',
        'Concurrent requests being served, per instance.',
        'none',
        [{ expr: `sum by (instance) (http_requests_in_flight{${SEL}})`, legend: '{{instance}}' }],
        6,
      ),
    )
    .withPanel(
      timeseries(
        'CPU',
        'Process CPU seconds per second (1 = one core).',
        'none',
        [{ expr: `sum by (instance) (rate(process_cpu_seconds_total{${SEL}}[${R}]))`, legend: '{{instance}}' }],
        6,
      ),
    )
    .withPanel(
      timeseries(
        'Event-loop lag',
        'Node.js event-loop delay: p99 and current.',
        's',
        [
          { expr: `max by (instance) (nodejs_eventloop_lag_p99_seconds{${SEL}})`, legend: 'p99 {{instance}}' },
          { expr: `max by (instance) (nodejs_eventloop_lag_seconds{${SEL}})`, legend: 'lag {{instance}}' },
        ],
        6,
      ),
    )
    .withPanel(
      timeseries(
        'Memory',
        'Resident set size and V8 heap used.',
        'bytes',
        [
          { expr: `sum by (instance) (process_resident_memory_bytes{${SEL}})`, legend: 'RSS {{instance}}' },
          { expr: `sum by (instance) (nodejs_heap_size_used_bytes{${SEL}})`, legend: 'heap {{instance}}' },
        ],
        6,
      ),
    )
    .build();
}
