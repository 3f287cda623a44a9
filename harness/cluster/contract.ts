/**
 * What the cluster run reads from Prometheus and which function gives the one-process figure:
 * the contract with the fleet monitoring (signed prediction ids, summable metrics, recording
 * rules), in one place so a renamed rule or a new core function is a one-line change.
 */
import { JOB } from '../../infra/monitoring/slo.ts';
import type { DriftWindows } from '../../api/drift-window.ts';
import { DEFAULT_DRIFT } from '../../api/drift-monitor.ts';
import { fleetDrift } from '../../core/drift/index.ts';
import { addPair, emptyCounts, liveFigures } from '../../core/model/live-quality.ts';

/** The scrape job every replica is a target of (the project's rules select it by this name). */
export const SCRAPE_JOB = JOB;

/** Env var holding the prediction-id signing keys (`id:secret[,id:secret]`), the same on every replica. */
export const PREDICTION_ID_KEYS_ENV = 'PREDICTION_ID_KEYS';

/** Env var naming the shared store in which replicas claim joined ids (a repeat is refused on any replica). */
export const DEDUPE_URL_ENV = 'FEEDBACK_DEDUPE_URL';

/** Fleet figures computed by recording rules from sums over every replica. */
export const FLEET_RULES = {
  /** `{metric="accuracy"|"roc_auc"|"mae"|"rmse"}`: live quality over every replica's joined feedback. */
  liveQuality: 'fleet:model_live_quality:total',
  /** `{feature=…}`: the drift statistic over every replica's window. */
  driftScore: 'fleet:model_drift_score:total',
  /** `{feature=…}`: 1 when the feature drifted over every replica's window. */
  driftDetected: 'fleet:model_drift_detected:total',
} as const;

/** Per-process series of today's API (what a fleet view must not average). */
export const PER_REPLICA = {
  liveQuality: 'model_live_quality',
  driftDetected: 'model_drift_detected',
  feedback: 'model_feedback_total',
  /** Served values per reference bin, `{version, feature, bin}` (summable: what the fleet drift rules sum). */
  driftServed: 'model_drift_served_total',
} as const;

export type QualityMetric = 'accuracy' | 'roc_auc' | 'mae' | 'rmse';
export const CLASSIFICATION_METRICS: QualityMetric[] = ['accuracy', 'roc_auc'];
export const REGRESSION_METRICS: QualityMetric[] = ['mae', 'rmse'];

/** One joined prediction as the harness saw it: what was answered and the label posted for it. */
export interface LabelledPrediction {
  /** Probability (classification) or predicted value (regression). */
  predicted: number;
  /** The decision threshold the answer used (classification). */
  threshold?: number;
  /** 0/1 (classification) or the observed value (regression). */
  actual: number;
}

/** The label the fleet rules keep per model version (figures of two versions never mix). */
export const VERSION_LABEL = 'version';

/**
 * The fleet's live quality computed in one process from the same binned counts the API exports
 * (core/model/live-quality.ts): Prometheus must agree with it within rounding (1e-6), not only
 * with the exact figures within the binning error.
 */
export const binnedLiveQuality = (
  task: 'classification' | 'regression',
  pairs: LabelledPrediction[],
): Partial<Record<QualityMetric, number>> => {
  const c = emptyCounts(task);
  for (const p of pairs) addPair(c, p.actual, p.predicted, p.threshold);
  const figures: Record<string, unknown> = { ...liveFigures(c) };
  return Object.fromEntries(
    Object.entries(figures).filter(
      (e): e is [QualityMetric, number] => e[0] !== 'task' && e[0] !== 'n' && typeof e[1] === 'number',
    ),
  );
};

/**
 * The fleet drift verdicts of core/drift (`fleet.ts`) computed in one process over the run's
 * windows (null: too few values for a verdict), with the thresholds the API judges by.
 */
export const fleetDriftReference = (
  windows: DriftWindows,
  stds: ReadonlyMap<string, number>,
): Record<string, DriftVerdict> =>
  Object.fromEntries(
    fleetDrift(windows.fleetTracks(stds), DEFAULT_DRIFT).features.map((f) => [
      f.feature,
      f.detected !== null && f.score !== null && Math.abs(f.score - f.threshold) <= BORDERLINE * f.threshold
        ? 'borderline'
        : f.detected,
    ]),
  );

/**
 * A score this close to its threshold (relative) is a verdict either side may give. The one-process
 * side takes the killed replica's answers up to the count its last scrape held, in the order the
 * harness saw them end; at the cut that order can differ from the replica's by a call or two.
 */
export const BORDERLINE = 0.01;

/**
 * How far the fleet's drift score may be from one process's: both sum the same counts, so what is
 * left is float rounding and that call or two at the kill (measured: equal to 6 decimals).
 */
export const DRIFT_SCORE_TOLERANCE = 1e-3;

/** A drift verdict: drifted, stable, too few values (null), or within BORDERLINE of the threshold. */
export type DriftVerdict = boolean | null | 'borderline';
