/**
 * The one-process drift verdict: the API's own drift windows and judge (api/drift-window.ts,
 * api/drift-monitor.ts) fed, in this process, every record the fleet answered with the promoted
 * model that Prometheus counted (the survivors', and the killed replica's up to its last scrape) —
 * what one replica would have judged had it received all that traffic.
 */
import { recordsToTable } from '../../core/data/records.ts';
import type { LoadedBundle } from '../../core/model/bundle.ts';
import type { NumericProfile } from '../../core/model/profile.ts';
import { DriftWindows } from '../../api/drift-window.ts';
import { DEFAULT_DRIFT, judge } from '../../api/drift-monitor.ts';
import { fleetDriftReference, type DriftVerdict } from './contract.ts';

/** Feature → drifted (null: too few values for a verdict), for every track the API keeps (inputs and "prediction"). */
export function oneProcessDrift(
  bundle: Pick<LoadedBundle, 'meta' | 'spec' | 'profile'>,
  rows: { record: Record<string, unknown>; prediction: number }[],
  reference = fleetDriftReference,
): Record<string, DriftVerdict> {
  const windows = new DriftWindows(Math.max(10, rows.length), bundle.profile, bundle.spec);
  const { table } = recordsToTable(
    rows.map((r) => r.record),
    bundle.meta.input_schema,
  );
  windows.add(
    table,
    rows.map((r) => r.prediction),
  );
  const stds = new Map(
    Object.entries(bundle.profile.features)
      .filter(([, f]) => f.kind === 'numeric')
      .map(([k, f]) => [k, (f as NumericProfile).std]),
  );
  if (bundle.profile.predictions) stds.set('prediction', bundle.profile.predictions.std);
  if (reference) return reference(windows, stds);
  const out: Record<string, DriftVerdict> = {};
  for (const s of windows.snapshot()) {
    const v = judge(s, stds.get(s.name), DEFAULT_DRIFT);
    out[s.name] = v.status === 'ok' ? v.drifted : null;
  }
  return out;
}
