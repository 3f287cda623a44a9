/**
 * The cluster run's figures and verdict, pure: the one-process reference computed from the
 * (prediction, label) pairs the harness collected, the comparison with what Prometheus says for
 * the fleet, the checks, and the readable table.
 */
import { accuracy, confusion, mae, rmse, rocAuc } from '../../core/model/quality-metrics.ts';
import { labelAt } from '../../core/model/decision.ts';
import {
  binnedLiveQuality,
  CLASSIFICATION_METRICS,
  REGRESSION_METRICS,
  VERSION_LABEL,
  type LabelledPrediction,
  type QualityMetric,
  type DriftVerdict,
  DRIFT_SCORE_TOLERANCE,
} from './contract.ts';
import type { FeedbackCall, PredictionCall } from './traffic.ts';
import { repeatCheck, repeatsText, type RepeatFigures } from './repeats.ts';

export type Task = 'classification' | 'regression';

/** Exact figures over every pair, with core/model/quality-metrics.ts (one process seeing all the traffic). */
export function exactLiveQuality(task: Task, pairs: LabelledPrediction[]): Partial<Record<QualityMetric, number>> {
  if (pairs.length === 0) return {};
  const actual = Float64Array.from(pairs, (p) => p.actual);
  const predicted = Float64Array.from(pairs, (p) => p.predicted);
  if (task === 'regression') return { mae: mae(actual, predicted), rmse: rmse(actual, predicted) };
  // Each answer's own threshold (a promotion mid-run changes it), as the answer labelled it.
  const labels = Float64Array.from(pairs, (p) => labelAt(p.predicted, p.threshold ?? 0.5));
  const auc = rocAuc(actual, predicted);
  return {
    accuracy: accuracy(confusion(actual, labels, 0.5)),
    ...(Number.isFinite(auc) ? { roc_auc: auc } : {}),
  };
}

/** How close the fleet figure must be: within rounding of the binned reference, within binning error of the exact one. */
export const TOLERANCE = {
  binned: 1e-6,
  exact: { accuracy: 0.002, roc_auc: 0.01, mae: 0.01, rmse: 0.01 } as Record<QualityMetric, number>,
};

export interface QualityRow {
  /** The model version the figure is about (`all` when the fleet rules keep no version label). */
  group: string;
  metric: QualityMetric;
  fleet: number | null;
  one_process_exact: number | null;
  one_process_binned: number | null;
  tolerance: number;
  ok: boolean;
}

export function compareQuality(
  task: Task,
  pairs: LabelledPrediction[],
  fleet: Partial<Record<QualityMetric, number>>,
  binned: typeof binnedLiveQuality | null = binnedLiveQuality,
  group = 'all',
): QualityRow[] {
  const exact = exactLiveQuality(task, pairs);
  const bin = binned?.(task, pairs) ?? {};
  return (task === 'classification' ? CLASSIFICATION_METRICS : REGRESSION_METRICS).map((metric) => {
    const reference = bin[metric] ?? exact[metric];
    const tolerance = bin[metric] !== undefined ? TOLERANCE.binned : TOLERANCE.exact[metric];
    const f = fleet[metric];
    const relative = metric === 'mae' || metric === 'rmse';
    const ok =
      f !== undefined &&
      reference !== undefined &&
      Math.abs(f - reference) <= tolerance * (relative ? Math.max(1, Math.abs(reference)) : 1);
    return {
      group,
      metric,
      fleet: f ?? null,
      one_process_exact: exact[metric] ?? null,
      one_process_binned: bin[metric] ?? null,
      tolerance,
      ok,
    };
  });
}

/** One series of an instant query: its labels and value. */
export interface FleetSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * Fleet quality against one process, per model version when the fleet rules keep a version label
 * (a version's figure is then over the labels of its own predictions), else over every pair.
 */
export function qualityByVersion(
  task: Task,
  pairs: (LabelledPrediction & { version: number })[],
  fleet: FleetSample[],
  binned: typeof binnedLiveQuality | null = binnedLiveQuality,
): QualityRow[] {
  const figures = (of: FleetSample[]) =>
    Object.fromEntries(of.map((s) => [s.labels.metric, s.value])) as Partial<Record<QualityMetric, number>>;
  if (!fleet.some((s) => s.labels[VERSION_LABEL] !== undefined))
    return compareQuality(task, pairs, figures(fleet), binned, 'all');
  const versions = [...new Set(pairs.map((p) => p.version))].sort((a, b) => a - b);
  return versions.flatMap((v) =>
    compareQuality(
      task,
      pairs.filter((p) => p.version === v),
      figures(fleet.filter((s) => s.labels[VERSION_LABEL] === String(v))),
      binned,
      `v${v}`,
    ),
  );
}

/** Feature → drifted from the fleet's verdict series, for `version` when the series carry one. */
export function fleetDriftVerdicts(fleet: FleetSample[], version: number): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const s of fleet)
    if (s.labels[VERSION_LABEL] === undefined || s.labels[VERSION_LABEL] === String(version))
      out[s.labels.feature] = s.value >= 1;
  return out;
}

export interface DriftRow {
  feature: string;
  /** null: no verdict (too few values) or no series. */
  fleet: boolean | null;
  one_process: DriftVerdict;
  /** The statistic on each side (shown beside the verdicts; null when a side has none). */
  fleet_score: number | null;
  one_process_score: number | null;
  ok: boolean;
}

/**
 * Verdicts per feature; "no verdict" on both sides agrees (too few values for either). Where both
 * sides have a score they must also agree within DRIFT_SCORE_TOLERANCE: the two sum the same counts.
 */
export function compareDrift(
  oneProcess: Record<string, DriftVerdict>,
  fleet: Record<string, boolean | null>,
  scores: { one_process?: Record<string, number | null>; fleet?: Record<string, number> } = {},
): DriftRow[] {
  return Object.entries(oneProcess).map(([feature, drifted]) => {
    const f = scores.fleet?.[feature] ?? null;
    const o = scores.one_process?.[feature] ?? null;
    const verdictsAgree = (fleet[feature] ?? null) === drifted || (drifted === 'borderline' && fleet[feature] != null);
    return {
      feature,
      fleet: fleet[feature] ?? null,
      one_process: drifted,
      fleet_score: f,
      one_process_score: o,
      ok: verdictsAgree && (f === null || o === null || Math.abs(f - o) <= DRIFT_SCORE_TOLERANCE),
    };
  });
}

/** Feature → the fleet drift score of `version` (series without a version label count for any). */
export function fleetDriftScores(fleet: FleetSample[], version: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of fleet)
    if (s.labels[VERSION_LABEL] === undefined || s.labels[VERSION_LABEL] === String(version))
      out[s.labels.feature] = s.value;
  return out;
}

export interface FeedbackFigures {
  posted: number;
  joined: number;
  /** Failed calls that were under way on the killed replica when it was killed. */
  lost_to_kill: number;
  /** Failures by error code (e.g. unknown_prediction: a replica that never saw the prediction). */
  failures: Record<string, number>;
  joined_share: number;
}

export function feedbackFigures(calls: FeedbackCall[], kill?: { replica: string; atMs: number }): FeedbackFigures {
  const failed = calls.filter((c) => c.status !== 200);
  const inFlightAtKill = (c: FeedbackCall) =>
    kill !== undefined &&
    c.startedAt <= kill.atMs &&
    c.endedAt >= kill.atMs &&
    (c.replica === kill.replica || c.replica === null);
  const lost = failed.filter(inFlightAtKill).length;
  const failures: Record<string, number> = {};
  for (const c of failed) {
    const why = c.code ?? (c.status === null ? `network: ${c.error ?? 'no answer'}` : `HTTP ${c.status}`);
    failures[why] = (failures[why] ?? 0) + 1;
  }
  const joined = calls.length - failed.length;
  const counted = calls.length - lost;
  return { posted: calls.length, joined, lost_to_kill: lost, failures, joined_share: counted ? joined / counted : 1 };
}

export interface PredictionFigures {
  sent: number;
  failed: number;
  failures: Record<string, number>;
  by_replica: Record<string, number>;
  by_version: Record<string, number>;
}

export function predictionFigures(calls: PredictionCall[]): PredictionFigures {
  const count = (key: (c: PredictionCall) => string | undefined, of = calls) => {
    const out: Record<string, number> = {};
    for (const c of of) {
      const k = key(c);
      if (k !== undefined) out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  };
  const failed = calls.filter((c) => c.status !== 200);
  return {
    sent: calls.length,
    failed: failed.length,
    failures: count((c) => (c.status === null ? `network: ${c.error}` : `HTTP ${c.status}: ${c.error ?? ''}`), failed),
    by_replica: count((c) => (c.status === 200 ? (c.replica ?? '(unnamed)') : undefined)),
    by_version: count((c) => (c.version === undefined ? undefined : `v${c.version}`)),
  };
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Verdict {
  predictions: PredictionFigures;
  feedback: FeedbackFigures;
  quality: QualityRow[];
  drift: DriftRow[];
  promotion: { version: number; converged_ms: number | null; bound_ms: number };
  /** Labels posted twice to different replicas (absent: the run posted none). */
  repeats?: RepeatFigures;
  /** Replicas that exited although the run did not kill them, with how and their last output. */
  unexpected_exits: UnexpectedExit[];
}

export interface UnexpectedExit {
  replica: string;
  /** The exit code, or the signal that ended it. */
  how: string;
  /** Its last output lines. */
  output: string;
}

/** Every acceptance check of the run; the run fails when one is not ok. */
export function checks(v: Verdict): Check[] {
  const noData = (what: string) =>
    `no data: Prometheus has no ${what} (are the fleet recording rules merged? see harness/cluster/contract.ts)`;
  const qualityMissing = v.quality.filter((q) => q.fleet === null);
  const driftMissing = v.drift.every((d) => d.fleet === null) ? v.drift : [];
  return [
    {
      name: '0 failed predictions',
      ok: v.predictions.failed === 0,
      detail: `${v.predictions.failed} of ${v.predictions.sent} failed${v.predictions.failed ? ': ' + JSON.stringify(v.predictions.failures) : ''}`,
    },
    {
      name: 'every label joined (but the killed replica’s in-flight calls)',
      ok: v.feedback.posted > 0 && v.feedback.joined === v.feedback.posted - v.feedback.lost_to_kill,
      detail: `${v.feedback.joined} of ${v.feedback.posted} joined (${(v.feedback.joined_share * 100).toFixed(1)} %), ${v.feedback.lost_to_kill} in flight at the kill${Object.keys(v.feedback.failures).length ? '; failures ' + JSON.stringify(v.feedback.failures) : ''}`,
    },
    {
      name: 'fleet live quality = one process',
      ok: v.quality.length > 0 && v.quality.every((q) => q.ok),
      detail: qualityMissing.length
        ? noData(qualityMissing.map((q) => `fleet ${q.metric}`).join(', '))
        : v.quality
            .map(
              (q) =>
                `${q.metric} (${q.group}) ${fmt(q.fleet)} vs ${fmt(q.one_process_binned ?? q.one_process_exact)} (±${q.tolerance})`,
            )
            .join('; '),
    },
    {
      name: 'fleet drift verdicts = one process',
      ok: v.drift.some((d) => d.one_process !== null) && v.drift.every((d) => d.ok),
      detail: v.drift.every((d) => d.one_process === null)
        ? 'no verdict in one process either: too few values answered by the promoted model on the survivors (more than drift.size_cutoff are needed); raise --requests'
        : driftMissing.length
          ? noData(`fleet drift verdict for ${driftMissing.map((d) => d.feature).join(', ')}`)
          : v.drift
              .filter((d) => !d.ok)
              .map((d) => `${d.feature}: fleet ${d.fleet}, one process ${d.one_process}${scoresText(d)}`)
              .join('; ') || `${v.drift.length} features agree`,
    },
    ...(v.repeats ? [repeatCheck(v.repeats)] : []),
    {
      // The balancer hides a replica that dies (its calls go to the others), so a crash would
      // otherwise only show as fewer answers behind the other checks.
      name: 'no replica exited but the one killed',
      ok: v.unexpected_exits.length === 0,
      detail: v.unexpected_exits.length
        ? v.unexpected_exits.map((e) => `${e.replica} exited (${e.how}); its last output:\n${e.output}`).join('\n')
        : 'the others ran to the end',
    },
    {
      name: `every live replica serves v${v.promotion.version}`,
      ok: v.promotion.converged_ms !== null && v.promotion.converged_ms <= v.promotion.bound_ms,
      detail:
        v.promotion.converged_ms === null
          ? `not converged within ${v.promotion.bound_ms} ms`
          : `${v.promotion.converged_ms} ms after the promotion`,
    },
  ];
}

const verdictText = (x: DriftVerdict) =>
  x === null ? 'no verdict' : x === 'borderline' ? 'borderline (either)' : x ? 'drifted' : 'stable';
const fmt = (x: number | null) => (x === null ? '—' : x.toFixed(4));
const scoresText = (d: DriftRow) =>
  d.fleet_score === null && d.one_process_score === null
    ? ''
    : ` (scores ${score(d.fleet_score)} vs ${score(d.one_process_score)})`;
// Six decimals: the two sides sum the same counts, so they should agree to rounding, not to the verdict only.
const score = (x: number | null) => (x === null ? '—' : x.toFixed(6));

/** The human summary: figures, then one line per check. */
export function renderTable(v: Verdict, list: Check[], extra: [string, string][] = []): string {
  const rows: [string, string][] = [
    ['predictions sent / failed', `${v.predictions.sent} / ${v.predictions.failed}`],
    [
      'answers per replica',
      Object.entries(v.predictions.by_replica)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
    ],
    [
      'answers per model version',
      Object.entries(v.predictions.by_version)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
    ],
    [
      'feedback joined / posted',
      `${v.feedback.joined} / ${v.feedback.posted} (${(v.feedback.joined_share * 100).toFixed(1)} % of those not in flight at the kill)`,
    ],
    ...(v.repeats
      ? [['repeats posted / refused (409 at another replica)', repeatsText(v.repeats)] as [string, string]]
      : []),
    ...v.quality.map((q): [string, string] => [
      `live ${q.metric} (${q.group}): fleet (Prometheus) vs one process`,
      `${fmt(q.fleet)} vs ${fmt(q.one_process_exact)} exact${q.one_process_binned !== null ? `, ${fmt(q.one_process_binned)} binned` : ''}`,
    ]),
    ...v.drift.map((d): [string, string] => [
      `drift ${d.feature}: fleet vs one process`,
      `${verdictText(d.fleet)} vs ${verdictText(d.one_process)}${scoresText(d)}`,
    ]),
    [
      `promotion to v${v.promotion.version} served by every live replica`,
      v.promotion.converged_ms === null ? 'never' : `${(v.promotion.converged_ms / 1000).toFixed(2)} s`,
    ],
    ...extra,
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    ...rows.map(([k, val]) => `${k.padEnd(width)}  ${val}`),
    '',
    ...list.map((c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`),
  ].join('\n');
}
