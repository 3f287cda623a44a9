/**
 * The one-process drift reference: the API's own drift windows (api/drift-window.ts) fed, in this
 * process, exactly the records Prometheus counted for the promoted model — every survivor's
 * answers, and the killed replica's up to its last scrape — scored with core/drift's fleet
 * function (what one replica would have judged had it received all that traffic).
 */
import { recordsToTable } from '../../core/data/records.ts';
import type { LoadedBundle } from '../../core/model/bundle.ts';
import { fleetDrift } from '../../core/drift/index.ts';
import { DriftWindows, referenceStds } from '../../api/drift-window.ts';
import { DEFAULT_DRIFT, judge } from '../../api/drift-monitor.ts';
import { fleetDriftReference, type DriftVerdict } from './contract.ts';

export interface OneProcessDrift {
  /** Feature → drifted (null: too few values for a verdict), for every track the API keeps (inputs and "prediction"). */
  verdicts: Record<string, DriftVerdict>;
  /** Feature → the fleet statistic over the same values (what `fleet:model_drift_score:total` must equal). */
  scores: Record<string, number | null>;
}

export function oneProcessDrift(
  bundle: Pick<LoadedBundle, 'meta' | 'spec' | 'profile'>,
  rows: { record: Record<string, unknown>; prediction: number }[],
  reference = fleetDriftReference,
): OneProcessDrift {
  const windows = new DriftWindows(Math.max(10, rows.length), bundle.profile, bundle.spec);
  const { table } = recordsToTable(
    rows.map((r) => r.record),
    bundle.meta.input_schema,
  );
  windows.add(
    table,
    rows.map((r) => r.prediction),
  );
  const stds = referenceStds(bundle.profile);
  const scores = Object.fromEntries(
    fleetDrift(windows.fleetTracks(stds), DEFAULT_DRIFT).features.map((f) => [f.feature, f.score]),
  );
  if (reference) return { verdicts: reference(windows, stds), scores };
  const verdicts: Record<string, DriftVerdict> = {};
  for (const s of windows.snapshot()) {
    const v = judge(s, stds.get(s.name), DEFAULT_DRIFT);
    verdicts[s.name] = v.status === 'ok' ? v.drifted : null;
  }
  return { verdicts, scores };
}

/**
 * The answers whose served values Prometheus summed: every survivor's, and the first
 * `killedCounted` of the killed replica's in the order it answered them (`killedCounted` is what
 * its counters held at its last scrape, read back from Prometheus). A replica observes a batch
 * for drift right before it answers it, so its counters hold a prefix of its answers.
 *
 * Why not a time cut: the killed replica's last scrape fell 0–1 s before the kill, and a cut at
 * "2 s before" left out up to ~60 answers Prometheus had counted — a slice of the day's traffic
 * at one hour, enough to move the prediction's distance by more than 5 % of its threshold.
 */
export function countedAnswers<T extends { replica: string | null; endedAt: number }>(
  answers: T[],
  survivors: readonly string[],
  killed: { replica: string; counted: number } | undefined,
): T[] {
  const kept = answers.filter((a) => a.replica !== null && survivors.includes(a.replica));
  if (!killed) return kept;
  const mine = answers.filter((a) => a.replica === killed.replica).sort((a, b) => a.endedAt - b.endedAt);
  return [...kept, ...mine.slice(0, Math.max(0, killed.counted))];
}
