/**
 * Live quality from counts that add up across processes. Each API replica joins only the labels
 * that happen to reach it, so a replica's own ROC-AUC or accuracy is not the fleet's, and an
 * average of per-replica ratios is not the ratio of the sums. What does add up: joined pairs by
 * true label × predicted-score bin (ROC-AUC), by confusion cell at the served threshold (accuracy),
 * and error sums with their count (MAE, RMSE). The API exports these as counters, the Prometheus
 * recording rules (infra/monitoring/fleet-rules.ts) compute the same figures from their sums, and
 * a harness that holds every pair computes them in one process with the same functions here.
 */
import type { Confusion } from '../schemas/metrics-files.ts';
import { labelAt } from './decision.ts';

/** Fixed score bins on [0, 1]: bin b holds [b/20, (b+1)/20), the last one closed. */
export const SCORE_BINS = 20;

/** The score bin of a probability; values outside [0, 1] (or NaN) go to the end bins. */
export function scoreBin(p: number): number {
  if (!(p > 0)) return 0;
  return Math.min(SCORE_BINS - 1, Math.floor(p * SCORE_BINS));
}

/** Counts of joined classification feedback (what the API exports per model version). */
export interface ClassificationCounts {
  task: 'classification';
  /** Joined pairs whose true label is 1 / 0, per score bin. */
  positives: number[];
  negatives: number[];
  /** Cells at the threshold each prediction was served with. */
  confusion: Confusion;
}

/** Sums of joined regression feedback. */
export interface RegressionSums {
  task: 'regression';
  n: number;
  absoluteError: number;
  squaredError: number;
}

export type LiveCounts = ClassificationCounts | RegressionSums;

export function emptyCounts(task: 'classification' | 'regression'): LiveCounts {
  return task === 'classification'
    ? {
        task,
        positives: new Array<number>(SCORE_BINS).fill(0),
        negatives: new Array<number>(SCORE_BINS).fill(0),
        confusion: { tp: 0, fp: 0, tn: 0, fn: 0 },
      }
    : { task, n: 0, absoluteError: 0, squaredError: 0 };
}

/**
 * Add one joined pair. Classification: `actual` is the label (0/1), `predicted` the served
 * probability and `threshold` the one it was served with; regression: values in target units.
 */
export function addPair(c: LiveCounts, actual: number, predicted: number, threshold = 0.5): void {
  if (c.task === 'regression') {
    const e = predicted - actual;
    c.n++;
    c.absoluteError += Math.abs(e);
    c.squaredError += e * e;
    return;
  }
  const bin = scoreBin(predicted);
  const said = labelAt(predicted, threshold) === 1;
  if (actual === 1) {
    c.positives[bin]++;
    if (said) c.confusion.tp++;
    else c.confusion.fn++;
  } else {
    c.negatives[bin]++;
    if (said) c.confusion.fp++;
    else c.confusion.tn++;
  }
}

/** Number of joined pairs the counts hold. */
export function pairCount(c: LiveCounts): number {
  if (c.task === 'regression') return c.n;
  const { tp, fp, tn, fn } = c.confusion;
  return tp + fp + tn + fn;
}

/**
 * ROC-AUC from per-bin counts: P(score of a positive > score of a negative), pairs in the same
 * bin counted half. Equals the exact (scikit-learn) AUC when no positive shares a bin with a
 * negative; otherwise it treats the scores inside a bin as tied. null without both classes.
 */
export function binnedRocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number | null {
  if (positives.length !== negatives.length)
    throw new Error(`binnedRocAuc: ${positives.length} positive bins but ${negatives.length} negative bins`);
  let below = 0,
    wins = 0,
    P = 0;
  for (let b = 0; b < positives.length; b++) {
    wins += positives[b] * (below + negatives[b] / 2);
    below += negatives[b];
    P += positives[b];
  }
  return P === 0 || below === 0 ? null : wins / (P * below);
}

/** Cumulative counts strictly below each bin (what the API exports beside the bin counts, so PromQL needs no running sum). */
export function countsBelow(counts: ArrayLike<number>): number[] {
  const out = new Array<number>(counts.length);
  let s = 0;
  for (let b = 0; b < counts.length; b++) {
    out[b] = s;
    s += counts[b];
  }
  return out;
}

export type LiveFigures =
  | { task: 'classification'; n: number; accuracy: number | null; roc_auc: number | null }
  | { task: 'regression'; n: number; mae: number | null; rmse: number | null };

/** The operator's figures from counts: the same values the fleet recording rules give for the same sums. */
export function liveFigures(c: LiveCounts): LiveFigures {
  const n = pairCount(c);
  if (c.task === 'regression')
    return { task: c.task, n, mae: n ? c.absoluteError / n : null, rmse: n ? Math.sqrt(c.squaredError / n) : null };
  const { tp, tn } = c.confusion;
  return { task: c.task, n, accuracy: n ? (tp + tn) / n : null, roc_auc: binnedRocAuc(c.positives, c.negatives) };
}

/** Sum of several processes' counts (what Prometheus does with `sum without (instance, pod)`). */
export function mergeCounts(parts: LiveCounts[]): LiveCounts | null {
  if (parts.length === 0) return null;
  const out = emptyCounts(parts[0].task);
  for (const p of parts) {
    if (p.task !== out.task) throw new Error(`mergeCounts: cannot add ${p.task} counts to ${out.task} counts`);
    if (out.task === 'regression' && p.task === 'regression') {
      out.n += p.n;
      out.absoluteError += p.absoluteError;
      out.squaredError += p.squaredError;
    } else if (out.task === 'classification' && p.task === 'classification') {
      for (let b = 0; b < SCORE_BINS; b++) {
        out.positives[b] += p.positives[b];
        out.negatives[b] += p.negatives[b];
      }
      for (const k of ['tp', 'fp', 'tn', 'fn'] as const) out.confusion[k] += p.confusion[k];
    }
  }
  return out;
}

/**
 * Names of the Prometheus recording rules that hold these figures for the whole fleet
 * (infra/monitoring/fleet-rules.ts): over the last hour, and with `:total` appended over the
 * counters' whole life (short runs).
 */
export const FLEET_QUALITY_RULES = {
  /** label `metric`: accuracy and roc_auc (classification), mae and rmse (regression). */
  quality: 'fleet:model_live_quality',
  /** joined pairs the figures are computed on. */
  samples: 'fleet:model_feedback_samples',
} as const;
