/**
 * Drift of the whole fleet from counts that add up across processes: served values per reference
 * bin (summed over replicas) against the reference profile's shares. The statistic is the one the
 * project uses for large windows (normalised Wasserstein-1 for numeric features and the
 * prediction, Jensen–Shannon distance for categorical ones) with the same thresholds, because a
 * fleet window (an hour of every replica's traffic) is large; hypothesis tests (the small-window
 * regime) need p-values PromQL cannot compute, so below `size_cutoff` served values the fleet
 * gives a score but no verdict. The Prometheus recording rules (infra/monitoring/fleet-rules.ts)
 * compute exactly these numbers from the exported counters; a harness computes them in one
 * process with `fleetDrift`.
 */
import type { DriftParams } from '../schemas/params.ts';
import { jensenShannonDistance } from './divergence.ts';
import { sum } from './result.ts';
import { MIN_NORMALISING_STD } from './wasserstein.ts';

/** One monitored feature (or the prediction) on the reference profile's bins. */
export interface FleetDriftTrack {
  feature: string;
  kind: 'numeric' | 'categorical';
  /** Reference counts (or shares) per bin, as profiled at training. */
  reference: ArrayLike<number>;
  /** Served values per bin, summed over the window and the replicas. */
  served: ArrayLike<number>;
  /** Numeric: the reference histogram edges (bins + 1) and the reference std the distance is divided by. */
  edges?: ArrayLike<number>;
  std?: number;
}

export interface FleetFeatureDrift {
  feature: string;
  method: 'wasserstein' | 'jensen_shannon';
  /** Served (non-missing) values in the window. */
  n: number;
  score: number | null;
  threshold: number;
  /** null: fewer than size_cutoff + 1 values, no verdict. */
  detected: boolean | null;
}

export interface FleetDrift {
  features: FleetFeatureDrift[];
  /** Drifted / evaluated input features (the prediction is not an input). */
  drift_share: number | null;
  dataset_drift: boolean | null;
}

/** The track name of the model's prediction (api/drift-window.ts); not an input feature. */
export const PREDICTION_TRACK = 'prediction';

/**
 * Whether a drift track is the model's output rather than an input: `prediction`, or a
 * multi-class model's `prediction.<class>`. Outputs are judged but stay out of the inputs' drift
 * share. PREDICTION_TRACK_REGEX is the same test as a PromQL label matcher (fully anchored there).
 */
export function isPredictionTrack(name: string): boolean {
  return name === PREDICTION_TRACK || name.startsWith(`${PREDICTION_TRACK}.`);
}
export const PREDICTION_TRACK_REGEX = `${PREDICTION_TRACK}([.].+)?`;

/** Shares of a count vector (all 0 when it is empty). */
export function shares(counts: ArrayLike<number>): number[] {
  const n = sum(counts);
  return Array.from(counts, (c) => (n ? c / n : 0));
}

/** Shares strictly below each bin (the CDF at each bin's lower edge). */
export function sharesBelow(counts: ArrayLike<number>): number[] {
  const s = shares(counts);
  let acc = 0;
  return s.map((v) => {
    const before = acc;
    acc += v;
    return before;
  });
}

/** Each bin's width in reference standard deviations (the std floored as the API does). */
export function binWidthsInStd(edges: ArrayLike<number>, std: number): number[] {
  const scale = Math.max(std, MIN_NORMALISING_STD);
  return Array.from({ length: Math.max(1, edges.length - 1) }, (_, b) =>
    edges.length > 1 ? (edges[b + 1] - edges[b]) / scale : 0,
  );
}

/**
 * ∫|F − G| over one bin whose CDF gaps at its edges are a and b, as one expression without a
 * branch (the form the recording rule uses): (a² + b² + ab + |ab|) / (2(|a| + |b|)).
 */
export function binArea(a: number, b: number): number {
  const d = 2 * (Math.abs(a) + Math.abs(b));
  return d === 0 ? 0 : (a * a + b * b + a * b + Math.abs(a * b)) / d;
}

/**
 * The score of one track, or null without served values. Numeric: Wasserstein-1 between the
 * piecewise-linear CDFs (mass spread uniformly inside each bin, as the API's windows clamp
 * out-of-range values into the end bins) divided by the reference std — the same number as
 * `normaliseByStd(wassersteinBinned(...))` on these bins. Categorical: Jensen–Shannon distance.
 */
export function fleetDriftScore(track: FleetDriftTrack): number | null {
  if (sum(track.served) === 0 || sum(track.reference) === 0) return null;
  if (track.kind === 'categorical') {
    const r = jensenShannonDistance(track.reference, track.served);
    return r.ok ? r.statistic : null;
  }
  if (!track.edges || track.std === undefined)
    throw new Error(`fleetDriftScore: numeric track "${track.feature}" needs its reference edges and std`);
  const widths = binWidthsInStd(track.edges, track.std);
  const ref = shares(track.reference),
    cur = shares(track.served);
  let g = 0,
    f = 0,
    score = 0;
  for (let b = 0; b < widths.length; b++) {
    const a = f - g;
    g += ref[b];
    f += cur[b];
    score += widths[b] * binArea(a, f - g);
  }
  return score;
}

/** Per-feature fleet scores and verdicts, and the dataset verdict over the input features. */
export function fleetDrift(tracks: FleetDriftTrack[], params: DriftParams): FleetDrift {
  const features = tracks.map((t): FleetFeatureDrift => {
    const method = t.kind === 'numeric' ? 'wasserstein' : 'jensen_shannon';
    const threshold = method === 'wasserstein' ? params.wasserstein_threshold : params.jensen_shannon_threshold;
    const n = sum(t.served);
    const score = fleetDriftScore(t);
    const judged = score !== null && n > minFleetValues(params);
    return { feature: t.feature, method, n, score, threshold, detected: judged ? score >= threshold : null };
  });
  const inputs = features.filter((f) => !isPredictionTrack(f.feature) && f.detected !== null);
  const share = inputs.length ? inputs.filter((f) => f.detected).length / inputs.length : null;
  return {
    features,
    drift_share: share,
    dataset_drift: share === null ? null : share >= params.dataset_drift_share,
  };
}

/** Verdicts need more served values than this: the project's distances apply above size_cutoff. */
export function minFleetValues(params: DriftParams): number {
  return Math.max(params.size_cutoff, params.min_window - 1);
}

/**
 * Names of the recording rules that hold these figures for the whole fleet
 * (infra/monitoring/fleet-rules.ts): over the last hour, and with `:total` appended over the
 * counters' whole life. Labels: model, version, feature, method.
 */
export const FLEET_DRIFT_RULES = {
  score: 'fleet:model_drift_score',
  /** 0/1 per feature, only where more than size_cutoff values were served. */
  detected: 'fleet:model_drift_detected',
  /** served (non-missing) values per feature. */
  values: 'fleet:model_drift_values',
  share: 'fleet:model_dataset_drift_share',
  dataset: 'fleet:model_dataset_drift',
} as const;
