/**
 * What the cluster run reads from Prometheus and which function gives the one-process figure:
 * the contract with issue 24's fleet monitoring (signed prediction ids, summable metrics,
 * recording rules), in one place so a renamed rule or a new core function is a one-line change.
 */
import { JOB } from '../../infra/monitoring/slo.ts';

/** The scrape job every replica is a target of (the project's rules select it by this name). */
export const SCRAPE_JOB = JOB;

/** Env var holding the prediction-id signing keys (`id:secret[,id:secret]`), the same on every replica. */
export const PREDICTION_ID_KEYS_ENV = 'PREDICTION_ID_KEYS';

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

/**
 * HOOK: the pure core function that computes the fleet figures from binned counts (issue 24, point
 * 2). Once it exists, set this to a wrapper that bins `pairs` as the API does and calls it; the run
 * then compares Prometheus with it within rounding (1e-6) instead of with the exact figures within
 * the binning error. Left undefined until that function is merged.
 */
export const binnedLiveQuality: ((pairs: LabelledPrediction[]) => Partial<Record<QualityMetric, number>>) | undefined =
  undefined;
