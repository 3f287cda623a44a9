/**
 * Per-feature drift verdicts and the dataset verdict, with the test chosen per column type and
 * current-window size as Evidently does: small windows get a hypothesis test (KS, chi-squared),
 * large windows a distance (normalised Wasserstein, Jensen–Shannon) because with thousands of
 * rows every test rejects on differences too small to matter.
 */
import { driftSchema, type DriftParams } from '../schemas/params.ts';
import type { FeatureProfile, ReferenceProfile } from '../model/profile.ts';
import { categoricalVectors, numericVectors, type CategoricalWindow, type NumericWindow } from './binning.ts';
import { chiSquaredHomogeneity } from './chi2.ts';
import { jensenShannonDistance } from './divergence.ts';
import { ksBinned } from './ks.ts';
import { sum, type TestResult } from './result.ts';
import { normaliseByStd, wassersteinBinned } from './wasserstein.ts';

export type DriftMethod = 'ks' | 'wasserstein' | 'chi2' | 'jensen_shannon';

export interface FeatureDrift {
  kind: 'numeric' | 'categorical';
  method: DriftMethod;
  status: 'ok' | 'insufficient_data';
  /** KS D, normalised W₁, chi-squared statistic or JS distance; null when there was too little data. */
  score: number | null;
  p_value?: number | null;
  threshold: number;
  drifted: boolean;
  /** Non-missing values in the current window (the sample size the test used). */
  n: number;
  missing: number;
  unseen?: number;
  /** Share of current values outside the reference edges (numeric only). */
  out_of_range?: number;
  reason?: string;
}

export interface DatasetDrift {
  features: Record<string, FeatureDrift>;
  dataset_drift: boolean;
  /** Drifted / evaluated features (0 when none could be evaluated). */
  drift_share: number;
  drifted_features: string[];
  /** Features with too little data for a verdict; they count in neither side of drift_share. */
  insufficient_features: string[];
}

export interface CurrentWindow {
  numeric: Record<string, NumericWindow>;
  categorical: Record<string, CategoricalWindow>;
}

export type ReferenceLike = Pick<ReferenceProfile, 'features'>;

/** Defaults of params.yaml `drift:`, filled in for any key left out. */
export function resolveDriftParams(params?: Partial<DriftParams>): DriftParams {
  return driftSchema.parse(params ?? {});
}

export function chooseMethod(
  kind: 'numeric' | 'categorical',
  n: number,
  params: DriftParams,
): { method: DriftMethod; threshold: number; test: boolean } {
  const small = n <= params.size_cutoff;
  if (kind === 'numeric')
    return small
      ? { method: 'ks', threshold: params.ks_p_value, test: true }
      : { method: 'wasserstein', threshold: params.wasserstein_threshold, test: false };
  return small
    ? { method: 'chi2', threshold: params.chi2_p_value, test: true }
    : { method: 'jensen_shannon', threshold: params.jensen_shannon_threshold, test: false };
}

/**
 * Verdict from a computed statistic. Tests drift when p < threshold; distances when
 * score ≥ threshold. Keeps the "not enough data" case a value.
 */
export function verdict(
  kind: 'numeric' | 'categorical',
  n: number,
  missing: number,
  params: DriftParams,
  compute: (method: DriftMethod) => TestResult,
): FeatureDrift {
  const { method, threshold, test } = chooseMethod(kind, n, params);
  const base = { kind, method, threshold, n, missing };
  if (n < params.min_window)
    return {
      ...base,
      status: 'insufficient_data',
      score: null,
      ...(test ? { p_value: null } : {}),
      drifted: false,
      reason: `${n} values in the current window, fewer than drift.min_window = ${params.min_window}`,
    };
  const r = compute(method);
  if (!r.ok)
    return {
      ...base,
      status: 'insufficient_data',
      score: null,
      ...(test ? { p_value: null } : {}),
      drifted: false,
      reason: r.reason,
    };
  if (test)
    return { ...base, status: 'ok', score: r.statistic, p_value: r.pValue ?? 1, drifted: (r.pValue ?? 1) < threshold };
  return { ...base, status: 'ok', score: r.statistic, drifted: r.statistic >= threshold };
}

function numericDrift(
  profile: Extract<FeatureProfile, { kind: 'numeric' }>,
  window: NumericWindow,
  params: DriftParams,
): FeatureDrift {
  const { reference, current } = numericVectors(profile, window);
  const n = sum(current);
  const meanOf = (total: number | undefined, count: number) =>
    total === undefined || count === 0 ? undefined : total / count;
  const result = verdict('numeric', n, window.missing, params, (method) =>
    method === 'ks'
      ? ksBinned(reference, current)
      : normaliseByStd(
          wassersteinBinned(profile.histogram.edges, reference, current, {
            current: { below: meanOf(window.below_sum, window.below), above: meanOf(window.above_sum, window.above) },
          }),
          profile.std,
        ),
  );
  return { ...result, out_of_range: n ? (window.below + window.above) / n : 0 };
}

function categoricalDrift(
  profile: Extract<FeatureProfile, { kind: 'categorical' }>,
  window: CategoricalWindow,
  params: DriftParams,
): FeatureDrift {
  const { reference, current, unseen } = categoricalVectors(profile, window);
  const result = verdict('categorical', sum(current), window.missing, params, (method) =>
    method === 'chi2' ? chiSquaredHomogeneity(reference, current) : jensenShannonDistance(reference, current),
  );
  return { ...result, unseen };
}

/** Dataset verdict from per-feature verdicts: drift when drifted / evaluated ≥ dataset_drift_share. */
export function summarise(features: Record<string, FeatureDrift>, params: DriftParams): DatasetDrift {
  const names = Object.keys(features);
  const drifted_features = names.filter((f) => features[f].drifted);
  const insufficient_features = names.filter((f) => features[f].status === 'insufficient_data');
  const evaluated = names.length - insufficient_features.length;
  const drift_share = evaluated ? drifted_features.length / evaluated : 0;
  return {
    features,
    dataset_drift: evaluated > 0 && drift_share >= params.dataset_drift_share,
    drift_share,
    drifted_features,
    insufficient_features,
  };
}

/**
 * Compare a current window with the reference profile. Features of the reference missing from
 * the window are reported as insufficient data (nothing observed), not skipped, so a broken
 * feed stays visible; window features the reference does not know are an error.
 */
export function detectDrift(
  reference: ReferenceLike,
  current: Partial<CurrentWindow>,
  params?: Partial<DriftParams>,
): DatasetDrift {
  const p = resolveDriftParams(params);
  const numeric = current.numeric ?? {},
    categorical = current.categorical ?? {};
  for (const name of [...Object.keys(numeric), ...Object.keys(categorical)]) {
    if (!reference.features[name])
      throw new Error(
        `the current window has feature "${name}" but the reference profile does not (it has: ${Object.keys(reference.features).join(', ')})`,
      );
  }
  const features: Record<string, FeatureDrift> = {};
  for (const [name, profile] of Object.entries(reference.features)) {
    if (profile.kind === 'numeric') {
      if (categorical[name])
        throw new Error(`feature "${name}" is numeric in the reference profile but was sent as categorical counts`);
      const window = numeric[name] ?? {
        counts: new Array<number>(profile.histogram.counts.length).fill(0),
        below: 0,
        above: 0,
        missing: 0,
      };
      features[name] = numericDrift(profile, window, p);
    } else {
      if (numeric[name])
        throw new Error(`feature "${name}" is categorical in the reference profile but was sent as numeric bins`);
      features[name] = categoricalDrift(profile, categorical[name] ?? { counts: {}, unseen: 0, missing: 0 }, p);
    }
  }
  return summarise(features, p);
}
