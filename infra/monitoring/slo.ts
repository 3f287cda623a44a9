/**
 * The one definition of the service's SLIs and SLOs. Prometheus rules (rules.ts), the dashboards
 * and the README's numbers all come from here; nothing else spells a target or a threshold.
 *
 * Ratio SLOs (availability, latency) are "bad events / all events" over prediction requests and
 * get multi-window multi-burn-rate alerts (Google SRE workbook, ch. 5). Model SLOs (freshness,
 * live quality) are gauge thresholds: the API computes them, Prometheus compares.
 */

/** Scrape job name of the inference API (prometheus.yml and every `up{job=…}` use it). */
export const JOB = 'gitops-ml-api';

/** Routes that serve predictions (`route` label of http_requests_total): single and batch. */
export const PREDICT_ROUTE_RE = '/predict|/v1/models/.+:predict';
const PREDICT = `route=~"${PREDICT_ROUTE_RE}"`;

/** Windows of the error-ratio recording rules; the burn-rate alerts use pairs of them. */
export const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type Window = (typeof WINDOWS)[number];

export interface BurnRateAlert {
  severity: 'page' | 'ticket';
  long: Window;
  short: Window;
  /** Multiple of the sustainable error rate (1 − objective). */
  factor: number;
  /** Share of the 30-day budget this condition spends before it fires (documentation). */
  budgetSpent: string;
}

/** Page: 2 % of the budget in 1 h, 5 % in 6 h. Ticket: 10 % in 1 d, 10 % in 3 d. */
export const BURN_RATE_ALERTS: BurnRateAlert[] = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4, budgetSpent: '2 % in 1 hour' },
  { severity: 'page', long: '6h', short: '30m', factor: 6, budgetSpent: '5 % in 6 hours' },
  { severity: 'ticket', long: '1d', short: '2h', factor: 3, budgetSpent: '10 % in 1 day' },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1, budgetSpent: '10 % in 3 days' },
];

export interface RatioSlo {
  /** Short id: recording rules are `job:slo_<id>_errors:ratio_rate<window>`. */
  id: 'availability' | 'latency';
  /** Alert name stem: `<alert>BurnRatePage` / `<alert>BurnRateTicket`. */
  alert: string;
  sli: string;
  objective: number;
  periodDays: number;
  why: string;
  /** PromQL rate of bad events per job over a window. */
  bad(window: string): string;
  /** PromQL rate of all events per job over a window. */
  total(window: string): string;
}

/** Latency threshold in seconds; must be a bucket bound of http_request_duration_seconds (api/prometheus.ts). */
export const LATENCY_THRESHOLD_SECONDS = 0.1;
const LE = String(LATENCY_THRESHOLD_SECONDS);

export const RATIO_SLOS: RatioSlo[] = [
  {
    id: 'availability',
    alert: 'SLOAvailability',
    sli: 'Share of prediction requests (POST /predict, POST /v1/models/<name>:predict) answered without a 5xx status.',
    objective: 0.999,
    periodDays: 30,
    why: "99.9 % leaves 43 minutes of full outage a month: enough for a bad rollout and its automatic rollback, tight enough that users of a synchronous scoring endpoint notice nothing. 4xx answers are the caller's fault and do not count.",
    // `or … * 0`: without any 5xx series the ratio is 0, not an empty result.
    bad: (w) =>
      `(sum by (job) (rate(http_requests_total{${PREDICT},status=~"5.."}[${w}])) or 0 * sum by (job) (rate(http_requests_total{${PREDICT}}[${w}])))`,
    total: (w) => `sum by (job) (rate(http_requests_total{${PREDICT}}[${w}]))`,
  },
  {
    id: 'latency',
    alert: 'SLOLatency',
    sli: `Share of prediction requests served in under ${LATENCY_THRESHOLD_SECONDS * 1000} ms (http_request_duration_seconds bucket le="${LE}").`,
    objective: 0.99,
    periodDays: 30,
    why: 'The model answers in about 1 ms; 100 ms is the budget a caller puts in its own request path. 99 % (not 99.9 %) leaves room for GC pauses, cold starts after a model swap and batch requests of many records.',
    bad: (w) =>
      `(sum by (job) (rate(http_request_duration_seconds_count{${PREDICT}}[${w}])) - sum by (job) (rate(http_request_duration_seconds_bucket{${PREDICT},le="${LE}"}[${w}])))`,
    total: (w) => `sum by (job) (rate(http_request_duration_seconds_count{${PREDICT}}[${w}]))`,
  },
];

export const recordName = (slo: Pick<RatioSlo, 'id'>, window: Window) => `job:slo_${slo.id}_errors:ratio_rate${window}`;

/** Model health objectives, evaluated on gauges the API exports. */
export const MODEL_SLOS = {
  freshness: {
    maxAgeDays: 30,
    sli: 'model_age_seconds: time since the served model was trained.',
    why: 'Flights drift with the season (winter → summer); a month-old model has missed a whole batch cycle of ingestion and retraining. Retraining runs on every push to the model branch, so 30 days without a new production model means the loop is broken.',
  },
  liveQuality: {
    metric: 'roc_auc',
    min: 0.6,
    minSamples: 500,
    sli: 'model_live_quality{metric="roc_auc"}: ROC AUC over the recent window of predictions joined with their true labels (POST /feedback).',
    why: 'An AUC of 0.5 is a coin toss; the flight-delay model reaches about 0.65–0.70 offline. Below 0.60 it is no longer worth serving. Under 500 labelled samples the AUC is too noisy (±0.05) to act on.',
  },
  drift: { forMinutes: 30 },
} as const;

export const DAY = 86_400;
