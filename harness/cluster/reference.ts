/**
 * The one-process drift verdict: the API's own drift windows and judge (api/drift-window.ts,
 * api/drift-monitor.ts) fed, in this process, every record the fleet answered with the promoted
 * model on the replicas still up at the end — what one replica would have judged had it received
 * all that traffic (each replica restarts its windows when the model changes, and a killed
 * replica's windows are gone with it).
 */
import { recordsToTable } from '../../core/data/records.ts';
import type { LoadedBundle } from '../../core/model/bundle.ts';
import type { NumericProfile } from '../../core/model/profile.ts';
import { DriftWindows } from '../../api/drift-window.ts';
import { DEFAULT_DRIFT, judge } from '../../api/drift-monitor.ts';

/** Feature → drifted, for the features the API judges (inputs and "prediction"), with enough data. */
export function oneProcessDrift(
  bundle: Pick<LoadedBundle, 'meta' | 'spec' | 'profile'>,
  rows: { record: Record<string, unknown>; prediction: number }[],
): Record<string, boolean> {
  const windows = new DriftWindows(Math.max(10, rows.length), bundle.profile, bundle.spec);
  const { table } = recordsToTable(
    rows.map((r) => r.record),
    bundle.meta.input_schema,
  );
  windows.add(
    table,
    rows.map((r) => r.prediction),
  );
  const std = (name: string) =>
    name === 'prediction'
      ? bundle.profile.predictions?.std
      : (bundle.profile.features[name] as NumericProfile | undefined)?.std;
  const out: Record<string, boolean> = {};
  for (const s of windows.snapshot()) {
    const v = judge(s, std(s.name), DEFAULT_DRIFT);
    if (v.status === 'ok') out[s.name] = v.drifted;
  }
  return out;
}
