/**
 * Prediction drift for `npm run drift` when the reference is a model bundle: the bundle scores the
 * current batch (calibrated probabilities, or values in target units, as the API serves them) and
 * the outputs are binned against the training-prediction profiles the bundle carries, the same
 * tracks the API's live monitor keeps (api/drift-window.ts: `prediction`, and `prediction.<class>`
 * per class of a multi-class model), judged with the inputs' methods and thresholds. Like the live
 * monitor, the tracks stay out of the inputs' drift share: a model can drift with stable inputs
 * and the reverse, and the two answers mean different things.
 */
import { binAgainst, detectDrift, type FeatureDrift, type NumericWindow } from '../core/drift/index.ts';
import { loadBundle, type BundleProfile } from '../core/model/bundle.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import type { NumericProfile } from '../core/model/profile.ts';
import type { DriftParams } from '../core/schemas/params.ts';
import type { Table } from '../core/data/table.ts';
import type { Logger } from '../core/platform/log.ts';

export interface PredictionDrift {
  /** Any prediction track drifted. */
  drifted: boolean;
  drifted_tracks: string[];
  /** One verdict per track: `prediction`, or `prediction.<class>` for each class of a multi-class model. */
  tracks: Record<string, FeatureDrift>;
}

/** Prediction drift, or why it was not computed. */
export type PredictionDriftOutcome = { skipped: string } | (PredictionDrift & { skipped?: undefined });

/** The training-prediction profiles of a bundle, by track name (profiles of one value have no bins to compare). */
export function predictionProfiles(
  profile: BundleProfile,
  classes: readonly string[] | undefined,
): Record<string, NumericProfile> {
  const usable = (p: NumericProfile | undefined): p is NumericProfile => !!p && p.histogram.edges.length > 1;
  if (classes)
    return Object.fromEntries(
      classes.flatMap((name) => {
        const p = profile.prediction_classes?.[name];
        return usable(p) ? [[`prediction.${name}`, p]] : [];
      }),
    );
  return usable(profile.predictions) ? { prediction: profile.predictions } : {};
}

/** The model's outputs (k per row for k classes) binned against each track's profile. */
export function predictionWindows(
  profiles: Record<string, NumericProfile>,
  outputs: Float32Array,
  classes: readonly string[] | undefined,
): Record<string, NumericWindow> {
  const k = classes?.length ?? 1;
  const rows = outputs.length / k;
  return Object.fromEntries(
    Object.entries(profiles).map(([track, prof]) => {
      const c = classes ? classes.indexOf(track.slice('prediction.'.length)) : 0;
      const values = k === 1 ? outputs : Float64Array.from({ length: rows }, (_, r) => outputs[r * k + c]);
      return [track, binAgainst(prof, values)];
    }),
  );
}

export function judgePredictions(
  profiles: Record<string, NumericProfile>,
  windows: Record<string, NumericWindow>,
  params?: DriftParams,
): PredictionDrift {
  const result = detectDrift({ features: profiles }, { numeric: windows, categorical: {} }, params);
  return {
    drifted: result.drifted_features.length > 0,
    drifted_tracks: result.drifted_features,
    tracks: result.features,
  };
}

/**
 * Score `table` with the bundle in `bundleDir` and judge its outputs against the bundle's training
 * predictions. `windows` comes back for the charts.
 */
export async function bundlePredictionDrift(
  bundleDir: string,
  table: Table,
  params: DriftParams | undefined,
  log: Logger,
): Promise<{
  outcome: PredictionDriftOutcome;
  profiles: Record<string, NumericProfile>;
  windows: Record<string, NumericWindow>;
}> {
  const none = (skipped: string) => ({ outcome: { skipped }, profiles: {}, windows: {} });
  const { tf } = await selectBackend({ log });
  const bundle = await loadBundle(tf, bundleDir);
  try {
    const missing = Object.keys(bundle.meta.input_schema).filter((c) => !table.columns[c]);
    if (missing.length) return none(`the current data has no ${missing.join(', ')}, an input of the model`);
    const profiles = predictionProfiles(bundle.profile, bundle.classes);
    if (!Object.keys(profiles).length)
      return none('the bundle has no profile of its training predictions (written before prediction profiles)');
    const windows = predictionWindows(profiles, bundle.predictTable(table), bundle.classes);
    return { outcome: judgePredictions(profiles, windows, params), profiles, windows };
  } finally {
    bundle.dispose();
  }
}
