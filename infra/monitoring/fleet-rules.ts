/**
 * Recording rules for the fleet's live quality and drift, from the summable counters every API
 * replica exports (api/fleet-metrics.ts). Each figure sums the replicas first (`sum without
 * (instance, pod)`) and only then divides: an average of per-replica AUCs or drift scores is not
 * the fleet's. The math is the one of core/model/live-quality.ts and core/drift/fleet.ts (the
 * promtool cases check both give the same numbers). Two windows: the last hour (`increase(…[1h])`,
 * what alerts and dashboards use) and the counters' whole life (`:total`: each replica's last
 * count within the hour, summed — exact for runs shorter than an hour, including replicas that
 * were killed; a replica gone for more than an hour drops out).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { FLEET_DRIFT_RULES, minFleetValues, PREDICTION_TRACK_REGEX } from '../../core/drift/fleet.ts';
import { resolveDriftParams } from '../../core/drift/detect.ts';
import { FLEET_QUALITY_RULES } from '../../core/model/live-quality.ts';
import type { RecordingRule } from './rules.ts';

type DriftParams = ReturnType<typeof resolveDriftParams>;

/** The window of the unsuffixed fleet rules. */
export const FLEET_WINDOW = '1h';
/** What identifies a replica's series: summed away. */
const REPLICA = 'instance, pod';
/** A floor for logarithms and divisions of empty bins (0·log 0 is taken as 0, as in core/drift). */
const TINY = '1e-300';

/** The drift section of params.yaml (what the API judges with), defaults for keys it leaves out. */
export function fleetDriftParams(): DriftParams {
  const path = join(fileURLToPath(new URL('../..', import.meta.url)), 'params.yaml');
  let drift: unknown;
  try {
    drift = (parse(readFileSync(path, 'utf8')) as { drift?: unknown } | null)?.drift;
  } catch {
    drift = undefined;
  }
  return resolveDriftParams(drift ?? {});
}

interface Window {
  suffix: '' | ':total';
  /** A counter over the window. */
  over(counter: string): string;
}
const WINDOWS: Window[] = [
  { suffix: '', over: (c) => `increase(${c}[${FLEET_WINDOW}])` },
  // Each replica's last count in the window: a replica killed or replaced (its series stale, its
  // counter gone with it) still counts for an hour, which raw `sum(counter)` would drop at once.
  { suffix: ':total', over: (c) => `last_over_time(${c}[${FLEET_WINDOW}])` },
];

function qualityRules(w: Window): RecordingRule[] {
  const fleet = (counter: string, more = '') => `sum without (${REPLICA}, version${more}) (${w.over(counter)})`;
  const q = FLEET_QUALITY_RULES.quality + w.suffix;
  const samples = FLEET_QUALITY_RULES.samples + w.suffix;
  const bins = (label: 0 | 1) => fleet(`model_feedback_score_bin_total{label="${label}"}`);
  return [
    { record: samples, expr: fleet('model_feedback_pairs_total') },
    {
      record: q,
      expr: `${fleet('model_feedback_confusion_total{cell=~"tp|tn"}', ', cell')}\n/\n(${fleet('model_feedback_confusion_total', ', cell')} > 0)`,
      labels: { metric: 'accuracy' },
    },
    {
      // Σ_b pos_b · (neg below b + ½ neg_b) / (P · N): pairs in one bin count half.
      record: q,
      expr: [
        'sum without (label, bin) (',
        `  ${bins(1)}`,
        '  * ignoring (label)',
        `  (${fleet('model_feedback_score_below_total{label="0"}')} + 0.5 * ${bins(0)})`,
        ')',
        '/',
        `((sum without (label, bin) (${bins(1)}) * sum without (label, bin) (${bins(0)})) > 0)`,
      ].join('\n'),
      labels: { metric: 'roc_auc' },
    },
    {
      record: q,
      expr: `${fleet('model_feedback_absolute_error_total')}\n/\n(${fleet('model_feedback_pairs_total')} > 0)`,
      labels: { metric: 'mae' },
    },
    {
      record: q,
      expr: `sqrt(\n  ${fleet('model_feedback_squared_error_total')}\n  /\n  (${fleet('model_feedback_pairs_total')} > 0)\n)`,
      labels: { metric: 'rmse' },
    },
    ...multiclassRules(w),
  ];
}

/**
 * Multi-class: from the per-class sums of model_feedback_class_total. `task="multiclass"` keeps
 * these series apart from a binary model's accuracy under the same name.
 */
function multiclassRules(w: Window): RecordingRule[] {
  const q = FLEET_QUALITY_RULES.quality + w.suffix;
  const per = (role: 'actual' | 'predicted' | 'hit') =>
    `sum without (${REPLICA}, version, role) (${w.over(`model_feedback_class_total{role="${role}"}`)})`;
  return [
    {
      record: q,
      expr: `sum without (class) (${per('hit')})\n/\n(sum without (class) (${per('actual')}) > 0)`,
      labels: { metric: 'accuracy', task: 'multiclass' },
    },
    {
      // F1 of a class = 2·tp / (actual + predicted); classes never seen nor predicted are left out.
      record: q,
      expr: `avg without (class) (\n  2 * ${per('hit')}\n  /\n  ((${per('actual')} + ${per('predicted')}) > 0)\n)`,
      labels: { metric: 'macro_f1', task: 'multiclass' },
    },
  ];
}

function driftRules(w: Window, p: DriftParams): RecordingRule[] {
  const s = w.suffix;
  const name = (n: string) => `fleet:model_drift_${n}${s}`;
  const fleet = (counter: string) => `sum without (${REPLICA}) (${w.over(counter)})`;
  // Served shares P and reference shares R per bin; numeric CDFs at the bin edges.
  const P = name('served_share');
  const R = 'fleet:model_drift_reference_share';
  const a = name('cdf_gap_lower');
  const b = name('cdf_gap_upper');
  const clamp = (x: string) => `clamp_min(${x}, ${TINY})`;
  const m = `clamp_min((${P}{kind="categorical"} + ${R}{kind="categorical"}) / 2, ${TINY})`;
  const klTerm = (x: string) => `0.5 * ${clamp(x)} * log2(${clamp(x)} / ${m})`;
  const score = FLEET_DRIFT_RULES.score + s;
  const values = FLEET_DRIFT_RULES.values + s;
  const detected = FLEET_DRIFT_RULES.detected + s;
  const share = FLEET_DRIFT_RULES.share + s;
  return [
    { record: name('served'), expr: fleet('model_drift_served_total') },
    { record: values, expr: `sum without (bin) (${name('served')})` },
    { record: P, expr: `${name('served')}\n/ ignoring (bin) group_left ()\n(${values} > 0)` },
    {
      record: a,
      expr: `${fleet('model_drift_served_below_total')}\n/ ignoring (bin) group_left ()\n(${values} > 0)\n- fleet:model_drift_reference_below_share`,
    },
    { record: b, expr: `${a} + ${P}{kind="numeric"} - ${R}{kind="numeric"}` },
    {
      // Normalised Wasserstein-1: Σ width/std · ∫|F − G| over each bin, with F − G linear from a to b.
      record: score,
      expr: `sum without (bin) (\n  fleet:model_drift_bin_width_std\n  * (${a} ^ 2 + ${b} ^ 2 + ${a} * ${b} + abs(${a} * ${b}))\n  / clamp_min(2 * (abs(${a}) + abs(${b})), ${TINY})\n)`,
      labels: { method: 'wasserstein' },
    },
    {
      // Jensen–Shannon distance, base 2: √(½ KL(P‖M) + ½ KL(R‖M)).
      record: score,
      expr: `sqrt(clamp_min(\n  sum without (bin) (\n    ${klTerm(`${P}{kind="categorical"}`)}\n    + ${klTerm(`${R}{kind="categorical"}`)}\n  ),\n  0\n))`,
      labels: { method: 'jensen_shannon' },
    },
    {
      // A verdict only where the project's distances apply (more than size_cutoff values).
      record: detected,
      expr: [
        `(${score}{method="wasserstein"} >= bool ${p.wasserstein_threshold})`,
        `(${score}{method="jensen_shannon"} >= bool ${p.jensen_shannon_threshold})`,
      ]
        .map((l) => `${l} and ignoring (method) (${values} > ${minFleetValues(p)})`)
        .map((l) => `(${l})`)
        .join('\nor\n'),
    },
    {
      record: share,
      expr: `avg without (feature, kind, method) (${detected}{feature!~"${PREDICTION_TRACK_REGEX}"})`,
    },
    { record: FLEET_DRIFT_RULES.dataset + s, expr: `${share} >= bool ${p.dataset_drift_share}` },
  ];
}

/** Reference shares, edges and widths: the same on every replica serving a version. */
const REFERENCE_RULES: RecordingRule[] = ['reference_share', 'reference_below_share', 'bin_width_std'].map((n) => ({
  record: `fleet:model_drift_${n}`,
  expr: `max without (${REPLICA}) (model_drift_${n})`,
}));

export function fleetRuleGroups(params: DriftParams = fleetDriftParams()) {
  return [
    { name: 'fleet-live-quality', rules: WINDOWS.flatMap(qualityRules) },
    { name: 'fleet-drift', rules: [...REFERENCE_RULES, ...WINDOWS.flatMap((w) => driftRules(w, params))] },
  ];
}
