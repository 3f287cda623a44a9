/**
 * What Prometheus can sum across replicas: counters of joined feedback (label × score bin,
 * confusion cell, error sums) and of served values per reference bin, plus the reference shares
 * they are compared with. A replica's own live ROC-AUC or drift score is a figure of the third (or
 * twelfth) of traffic it happened to get, and no PromQL combines those; sums of these counters are
 * what one process would have counted, and the recording rules of infra/monitoring/fleet-rules.ts
 * compute the fleet's live quality and drift from them (`fleet:model_live_quality`,
 * `fleet:model_drift_score`, …) with the math of core/model/live-quality.ts and core/drift/fleet.ts.
 *
 * The hot path only adds to arrays; the counters are filled from them at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  SCORE_BINS,
  addPair,
  pairCount,
  countsBelow,
  emptyCounts,
  type LiveCounts,
} from '../core/model/live-quality.ts';
import { binWidthsInStd, shares, sharesBelow, type FleetDriftTrack } from '../core/drift/fleet.ts';

/** Versions kept per process: a pod lives through a few promotions, not hundreds. */
const MAX_VERSIONS = 8;

function capped<V>(map: Map<string, V>): void {
  while (map.size > MAX_VERSIONS) map.delete(map.keys().next().value!);
}

/**
 * Joined multi-class feedback of one version, per class: how often it was the true class, the
 * predicted class, and both. Accuracy (Σ hit / Σ actual) and macro-F1 (mean over classes seen of
 * 2·hit / (actual + predicted)) follow from these sums, so the fleet's figures are exact.
 */
export interface ClassCounts {
  classes: readonly string[];
  actual: Float64Array;
  predicted: Float64Array;
  hit: Float64Array;
  pairs: number;
}

/** Joined feedback counts per (model, version). */
export class FleetQuality {
  readonly byVersion = new Map<string, { model: string; version: number; counts: LiveCounts }>();
  readonly multiclass = new Map<string, { model: string; version: number; counts: ClassCounts }>();

  /** One multi-class pair: `actual` and `predicted` are indices into `classes` (the model's class names). */
  addClass(model: string, version: number, classes: readonly string[], actual: number, predicted: number): void {
    const key = `${model}\u0001${version}`;
    let entry = this.multiclass.get(key);
    if (!entry || entry.counts.classes.length !== classes.length) {
      const k = classes.length;
      const counts = {
        classes,
        actual: new Float64Array(k),
        predicted: new Float64Array(k),
        hit: new Float64Array(k),
        pairs: 0,
      };
      this.multiclass.set(key, (entry = { model, version, counts }));
      capped(this.multiclass);
    }
    const c = entry.counts;
    if (!(actual >= 0 && actual < c.actual.length && predicted >= 0 && predicted < c.predicted.length)) return;
    c.actual[actual]++;
    c.predicted[predicted]++;
    if (actual === predicted) c.hit[actual]++;
    c.pairs++;
  }

  add(
    model: string,
    version: number,
    task: 'classification' | 'regression',
    actual: number,
    predicted: number,
    threshold: number | null,
  ): void {
    const key = `${model}\u0001${version}\u0001${task}`;
    let entry = this.byVersion.get(key);
    if (!entry) {
      this.byVersion.set(key, (entry = { model, version, counts: emptyCounts(task) }));
      capped(this.byVersion);
    }
    addPair(entry.counts, actual, predicted, threshold ?? undefined);
  }
}

/** The served-value tracks of each model version this process has served (api/drift-monitor.ts registers them). */
export class FleetDriftSources {
  readonly byVersion = new Map<string, { model: string; version: number; tracks: () => FleetDriftTrack[] }>();

  register(model: string, version: number, tracks: () => FleetDriftTrack[]): void {
    const key = `${model}\u0001${version}`;
    const before = this.byVersion.get(key);
    // Serving the version again (a rollback and forth) restarts the windows: counters must not go back.
    if (before) {
      const next = tracks();
      before.tracks().forEach((t, i) => {
        const served = next[i]?.served;
        if (served instanceof Float64Array && served.length === t.served.length)
          for (let b = 0; b < served.length; b++) served[b] += t.served[b];
      });
    }
    this.byVersion.delete(key);
    this.byVersion.set(key, { model, version, tracks });
    capped(this.byVersion);
  }
}

export function registerFleetMetrics(registry: Registry, quality: FleetQuality, drift: FleetDriftSources): void {
  const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter) => void) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      // The reference shares are the model's, the same in every worker.
      aggregator: 'first',
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  const qualityLabels = (e: { model: string; version: number }) => ({ model: e.model, version: String(e.version) });

  counter(
    'model_feedback_pairs_total',
    'Joined feedback pairs (prediction, outcome) by model version; sums across replicas',
    ['model', 'version'],
    (c) => {
      for (const e of quality.byVersion.values()) {
        c.inc(qualityLabels(e), pairCount(e.counts));
      }
      for (const e of quality.multiclass.values()) c.inc(qualityLabels(e), e.counts.pairs);
    },
  );
  counter(
    'model_feedback_class_total',
    'Joined multi-class feedback per class: role="actual" (the true class), "predicted" (the served class), "hit" (both); accuracy and macro-F1 follow from the sums',
    ['model', 'version', 'class', 'role'],
    (c) => {
      for (const e of quality.multiclass.values()) {
        const l = qualityLabels(e);
        // Every class and role, zeros included, so increase() sees each series from 0.
        e.counts.classes.forEach((name, k) => {
          c.inc({ ...l, class: name, role: 'actual' }, e.counts.actual[k]);
          c.inc({ ...l, class: name, role: 'predicted' }, e.counts.predicted[k]);
          c.inc({ ...l, class: name, role: 'hit' }, e.counts.hit[k]);
        });
      }
    },
  );
  counter(
    'model_feedback_score_bin_total',
    `Joined classification feedback by true label and predicted-probability bin (${SCORE_BINS} bins of width ${1 / SCORE_BINS} on [0, 1]); for the fleet ROC-AUC`,
    ['model', 'version', 'label', 'bin'],
    (c) => {
      for (const e of quality.byVersion.values()) {
        if (e.counts.task !== 'classification') continue;
        const l = qualityLabels(e);
        for (const [label, v] of [
          ['1', e.counts.positives],
          ['0', e.counts.negatives],
        ] as const)
          v.forEach((n, bin) => c.inc({ ...l, label, bin: String(bin) }, n));
      }
    },
  );
  counter(
    'model_feedback_score_below_total',
    'Joined classification feedback by true label with a predicted-probability bin below `bin` (the running sum PromQL cannot do)',
    ['model', 'version', 'label', 'bin'],
    (c) => {
      for (const e of quality.byVersion.values()) {
        if (e.counts.task !== 'classification') continue;
        const l = qualityLabels(e);
        for (const [label, v] of [
          ['1', e.counts.positives],
          ['0', e.counts.negatives],
        ] as const)
          countsBelow(v).forEach((n, bin) => c.inc({ ...l, label, bin: String(bin) }, n));
      }
    },
  );
  counter(
    'model_feedback_confusion_total',
    'Joined classification feedback by confusion cell (tp, fp, tn, fn) at the threshold each prediction was served with',
    ['model', 'version', 'cell'],
    (c) => {
      for (const e of quality.byVersion.values())
        if (e.counts.task === 'classification')
          for (const [cell, n] of Object.entries(e.counts.confusion)) c.inc({ ...qualityLabels(e), cell }, n);
    },
  );
  counter(
    'model_feedback_absolute_error_total',
    'Sum of |predicted − actual| over joined regression feedback (MAE = this / pairs)',
    ['model', 'version'],
    (c) => {
      for (const e of quality.byVersion.values())
        if (e.counts.task === 'regression') c.inc(qualityLabels(e), e.counts.absoluteError);
    },
  );
  counter(
    'model_feedback_squared_error_total',
    'Sum of (predicted − actual)² over joined regression feedback (RMSE = √(this / pairs))',
    ['model', 'version'],
    (c) => {
      for (const e of quality.byVersion.values())
        if (e.counts.task === 'regression') c.inc(qualityLabels(e), e.counts.squaredError);
    },
  );

  // `kind` (numeric or categorical) on every drift series, so the rules select each statistic's inputs by label.
  const eachTrack = (
    f: (labels: { model: string; version: string; feature: string; kind: string }, t: FleetDriftTrack) => void,
  ) => {
    for (const e of drift.byVersion.values())
      for (const t of e.tracks())
        f({ model: e.model, version: String(e.version), feature: t.feature, kind: t.kind }, t);
  };
  counter(
    'model_drift_served_total',
    'Served values (inputs, and the prediction as feature "prediction") per bin of the reference profile, since the process started serving the version',
    ['model', 'version', 'feature', 'kind', 'bin'],
    (c) => eachTrack((l, t) => Array.from(t.served, (n, bin) => c.inc({ ...l, bin: String(bin) }, n))),
  );
  counter(
    'model_drift_served_below_total',
    'Served values of a numeric feature in bins below `bin` (the CDF at the bin lower edge, for the fleet Wasserstein distance)',
    ['model', 'version', 'feature', 'kind', 'bin'],
    (c) =>
      eachTrack((l, t) => {
        if (t.kind === 'numeric') countsBelow(t.served).forEach((n, bin) => c.inc({ ...l, bin: String(bin) }, n));
      }),
  );
  gauge(
    'model_drift_reference_share',
    "Share of the training data in each bin of the version's reference profile (kind: numeric or categorical)",
    ['model', 'version', 'feature', 'kind', 'bin'],
    (g) => eachTrack((l, t) => shares(t.reference).forEach((v, bin) => g.set({ ...l, bin: String(bin) }, v))),
  );
  gauge(
    'model_drift_reference_below_share',
    'Share of the training data in bins below `bin` (numeric features: the reference CDF at the bin lower edge)',
    ['model', 'version', 'feature', 'kind', 'bin'],
    (g) =>
      eachTrack((l, t) => {
        if (t.kind === 'numeric') sharesBelow(t.reference).forEach((v, bin) => g.set({ ...l, bin: String(bin) }, v));
      }),
  );
  gauge(
    'model_drift_bin_width_std',
    'Width of each reference bin of a numeric feature in reference standard deviations (the weight of the normalised Wasserstein distance)',
    ['model', 'version', 'feature', 'kind', 'bin'],
    (g) =>
      eachTrack((l, t) => {
        if (t.kind === 'numeric')
          binWidthsInStd(t.edges!, t.std!).forEach((v, bin) => g.set({ ...l, bin: String(bin) }, v));
      }),
  );
}
