/**
 * The service's Prometheus metrics, created on a registry passed in (no hidden globals), so tests
 * and cluster workers each get their own. Names follow Prometheus conventions (base units, _total).
 * Under WORKERS>1 the primary sums the workers' registries (api/cluster-metrics.ts): counters and
 * histograms add; a gauge's `aggregator` says how it combines: the same model everywhere (first),
 * the worst worker's drift (max, as fleet-rules.ts takes across replicas), the workers' mean live
 * quality (the exact pod and fleet figure is the recording rule over the summed counters).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the scrape-time gauges read, handed in by whoever builds the service (api/server.ts). */
export interface MetricsSources {
  /** The model being served (null before the first load): its name and when it was trained (ms since the epoch; 0: unknown). */
  servedModel(): { name: string; createdAt: number } | null;
  /** Quality over the recent feedback window, by metric (null: no feedback yet). */
  liveQuality(): Record<string, number | null> | null;
}

/** Steps within a decade of the scale-free buckets: consecutive bounds at most 5/3 apart. */
const DECADE_STEPS = [1, 1.5, 2, 3, 5, 7];

/**
 * Histogram bounds for a value of any sign and scale (a regression's prediction or error: delay
 * minutes, miles per gallon, a price in the hundreds of thousands), the same for every model, so
 * replicas serving different versions still sum `by (le)`: ±{1, 1.5, 2, 3, 5, 7} × 10^k from 1 to
 * 10^6, 0, and `fine` for the range (−1, 1) (probabilities, a classifier's errors).
 */
export function scaleFreeBuckets(fine: readonly number[]): number[] {
  const large: number[] = [];
  for (let k = 0; k < 6; k++) for (const step of DECADE_STEPS) large.push(Number((step * 10 ** k).toPrecision(2)));
  large.push(1e6);
  const all = [...large.map((v) => -v), 0, ...fine.filter((v) => Math.abs(v) < 1), ...large];
  return [...new Set(all)].sort((a, b) => a - b);
}

export function createMetrics(
  sources: MetricsSources,
  registry = new Registry(),
  options: { defaultMetrics?: boolean } = {},
) {
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // These three gauges carry a `_total` suffix that promtool rejects; the per-type
    // nodejs_active_{handles,requests,resources} gauges hold the same information.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      registry.removeSingleMetric(name);
  }
  const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const inFlight = { count: 0 };
  const m = {
    registry,
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['route', 'method'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    /** Requests being served: a plain count on the request path, read into the gauge at scrape time. */
    inFlight,
    inFlightGauge: new Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being served',
      registers: [registry],
      collect() {
        this.set(inFlight.count);
      },
    }),
    requestSize: new Histogram({
      name: 'http_request_size_bytes',
      help: 'HTTP request body size',
      labelNames: ['route'],
      buckets: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576],
      registers: [registry],
    }),
    predictions: new Counter({
      name: 'model_predictions_total',
      help: 'Predictions served, by predicted class (classification) or "value" (regression)',
      labelNames: ['model', 'version', 'class'],
      registers: [registry],
    }),
    predictionValue: new Histogram({
      name: 'model_prediction_value',
      help: 'Predicted probability (classification) or value (regression)',
      labelNames: ['model'],
      buckets: scaleFreeBuckets([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]),
      registers: [registry],
    }),
    inference: new Histogram({
      name: 'model_inference_duration_seconds',
      help: 'Time of one model call (a coalesced batch)',
      labelNames: ['model'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'model_batch_size',
      help: 'Records per model call after coalescing',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
      registers: [registry],
    }),
    info: new Gauge({
      name: 'model_info',
      help: 'The model being served (value 1)',
      labelNames: ['name', 'version', 'stage', 'git_sha', 'data_md5', 'backend'],
      aggregator: 'first',
      registers: [registry],
    }),
    age: new Gauge({
      name: 'model_age_seconds',
      help: 'Seconds since the served model was trained',
      labelNames: ['model'],
      aggregator: 'max',
      registers: [registry],
      collect() {
        const served = sources.servedModel();
        if (served?.createdAt) this.set({ model: served.name }, (Date.now() - served.createdAt) / 1000);
      },
    }),
    loadFailures: new Counter({
      name: 'model_load_failures_total',
      help: 'Model versions refused at load (unreadable, warm-up or golden check failed)',
      labelNames: ['model', 'reason'],
      registers: [registry],
    }),
    nonFinite: new Counter({
      name: 'model_non_finite_outputs_total',
      help: 'Valid input rows for which the model gave no finite output (answered 503, or an error in its row of a batch)',
      labelNames: ['model'],
      registers: [registry],
    }),
    swaps: new Counter({
      name: 'model_swaps_total',
      help: 'Times the served model version changed',
      labelNames: ['model'],
      registers: [registry],
    }),
    oov: new Counter({
      name: 'model_unknown_category_total',
      help: 'Input values outside the training vocabulary, per feature',
      labelNames: ['model', 'feature'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'model_rejected_fields_total',
      help: 'Input fields rejected by validation, per schema field ("(unknown)": a field the model does not take, "(record)": an instance that is not an object)',
      labelNames: ['model', 'field'],
      registers: [registry],
    }),
    feedback: new Counter({
      name: 'model_feedback_total',
      help: 'Feedback received, by outcome (joined; unknown: not an id this service issues; forged: the signature does not match; unknown_key: signed with a key this replica does not hold; expired; duplicate: already joined, on any replica when FEEDBACK_DEDUPE_URL is set, else on this one; retry_later: the dedupe store could not answer, 503)',
      labelNames: ['model', 'outcome'],
      registers: [registry],
    }),
    dedupeErrors: new Counter({
      name: 'feedback_dedupe_errors_total',
      help: 'Failures of the shared feedback dedupe store (FEEDBACK_DEDUPE_URL), by reason: disconnected (a claim refused while not connected), timeout, error (the store refused a command), connection (the client lost or could not open its connection)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    predictionError: new Histogram({
      name: 'model_prediction_error',
      help: 'Predicted minus actual for joined feedback (probability minus label for classification)',
      labelNames: ['model'],
      buckets: scaleFreeBuckets([-0.5, -0.25, 0.25, 0.5]),
      registers: [registry],
    }),
    driftScore: new Gauge({
      name: 'model_drift_score',
      help: "Drift statistic per feature and method over this replica's current window (KS D, chi-squared, normalised Wasserstein or Jensen–Shannon); the fleet's: recording rule fleet:model_drift_score",
      labelNames: ['model', 'feature', 'method'],
      aggregator: 'max',
      registers: [registry],
    }),
    driftDetected: new Gauge({
      name: 'model_drift_detected',
      help: '1 when the feature (or "prediction") drifted in the current window',
      labelNames: ['model', 'feature'],
      aggregator: 'max',
      registers: [registry],
    }),
    datasetDriftShare: new Gauge({
      name: 'model_dataset_drift_share',
      help: 'Share of input features that drifted in the current window',
      labelNames: ['model'],
      aggregator: 'max',
      registers: [registry],
    }),
    datasetDrift: new Gauge({
      name: 'model_dataset_drift',
      help: '1 when the drifted share reaches drift.dataset_drift_share',
      labelNames: ['model'],
      aggregator: 'max',
      registers: [registry],
    }),
    unseenValues: new Counter({
      name: 'model_unseen_category_values_total',
      help: 'Input values outside the training vocabulary, per monitored feature',
      labelNames: ['model', 'feature'],
      registers: [registry],
    }),
    outOfRange: new Counter({
      name: 'model_out_of_range_values_total',
      help: 'Numeric inputs (or predictions) outside the training range, per feature',
      labelNames: ['model', 'feature'],
      registers: [registry],
    }),
    live: new Gauge({
      name: 'model_live_quality',
      help: "Quality over the feedback window of this replica (accuracy, precision, recall, f1, roc_auc, mae, rmse, samples); not averageable across replicas: the fleet's is the recording rule fleet:model_live_quality",
      labelNames: ['model', 'metric'],
      aggregator: 'average',
      registers: [registry],
      collect() {
        this.reset();
        const values = sources.liveQuality();
        if (!values) return;
        const model = sources.servedModel()?.name ?? '';
        for (const [metric, v] of Object.entries(values))
          if (typeof v === 'number' && Number.isFinite(v)) this.set({ model, metric }, v);
      },
    }),
  };
  return m;
}

export type ApiMetrics = ReturnType<typeof createMetrics>;

/**
 * Memoised label children: prom-client hashes a label object on every call (sorting names); the
 * hot path looks up a child by its label values instead, in nested maps (one level per value), so
 * a lookup builds no key string.
 */
export function childCache<T>(make: (...values: string[]) => T): (...values: string[]) => T {
  const root = new Map<string, unknown>();
  return (...values) => {
    let level = root;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      let next = level.get(values[i]) as Map<string, unknown> | undefined;
      if (!next) level.set(values[i], (next = new Map()));
      level = next;
    }
    let child = level.get(values[last]) as T | undefined;
    if (child === undefined) level.set(values[last], (child = make(...values)));
    return child;
  };
}

/** What histogramChild reads of a prom-client 15 Histogram (not its public API; checked before use). */
/** The key prom-client files a child's entry under: its labels in sorted name order (its hashObject). */
function labelKey(sortedNames: readonly string[], labels: Partial<Record<string, string>>): string {
  let key = '';
  for (const name of sortedNames) {
    const value = labels[name];
    if (value !== undefined) key += `${name}:${value},`;
  }
  return key;
}

interface HistogramInternals {
  hashMap: Record<string, { sum: number; count: number; bucketValues: Record<string, number> } | undefined>;
  upperBounds: number[];
  sortedLabelNames: string[];
}

/**
 * A histogram's child for fixed label values whose `observe` does only the arithmetic: prom-client's
 * own builds a label object, validates it, hashes it to a string and converts the bound to a
 * property key on every call (~0.7 µs, three times per prediction). This one finds the child's
 * entry under the key prom-client gives those labels (computed once) and adds to it as prom-client
 * would, so the exposition, `reset()` and the cluster's sums are prom-client's. A missing entry
 * (first call, after a reset) is created by prom-client's `zero`; a value that is not a finite
 * number goes to prom-client's own `observe`, which refuses it; a prom-client without these fields
 * gets its public child.
 */
export function histogramChild<T extends string>(
  h: Histogram<T>,
  labels: Partial<Record<T, string>>,
): { observe(v: number): void } {
  const slow = h.labels(labels);
  const inner = h as unknown as Partial<HistogramInternals>;
  if (
    typeof inner.hashMap !== 'object' ||
    !Array.isArray(inner.upperBounds) ||
    !Array.isArray(inner.sortedLabelNames) ||
    inner.upperBounds.some((b) => typeof b !== 'number')
  )
    return slow;
  const map = inner as HistogramInternals;
  const key = labelKey(map.sortedLabelNames, labels);
  const bounds = Float64Array.from(map.upperBounds);
  const boundKeys = map.upperBounds.map(String);
  return {
    observe(v: number) {
      if (!Number.isFinite(v)) return slow.observe(v); // prom-client's refusal, word for word
      let entry = map.hashMap[key];
      if (entry === undefined) {
        h.zero(labels); // the entry prom-client would create (first call, after a reset), with nothing counted
        entry = map.hashMap[key];
        if (entry === undefined) return slow.observe(v);
      }
      let i = 0;
      while (i < bounds.length && v > bounds[i]) i++;
      entry.sum += v;
      entry.count += 1;
      if (i < bounds.length) entry.bucketValues[boundKeys[i]] += 1;
    },
  };
}

interface CounterInternals {
  hashMap: Record<string, { value: number } | undefined>;
  sortedLabelNames: string[];
}

/**
 * A counter's child that adds to its entry directly, as histogramChild observes: prom-client's
 * `inc` on a child hashes the label object and validates it on every call. The entry is prom-client's
 * (created by its own `inc` the first time, and after a reset), so the exposition, `reset()` and
 * the workers' sums are prom-client's; a value it would refuse goes to its `inc`, which refuses it.
 */
export function counterChild<T extends string>(
  c: Counter<T>,
  labels: Partial<Record<T, string>>,
): { inc(n?: number): void } {
  const slow = c.labels(labels);
  const inner = c as unknown as Partial<CounterInternals>;
  if (typeof inner.hashMap !== 'object' || !Array.isArray(inner.sortedLabelNames)) return slow;
  const map = inner as CounterInternals;
  const key = labelKey(map.sortedLabelNames, labels);
  return {
    inc(n = 1) {
      const entry = map.hashMap[key];
      if (entry === undefined || !(n >= 0) || !Number.isFinite(n)) return slow.inc(n);
      entry.value += n;
    },
  };
}
