/**
 * Model-quality metrics as pure functions over arrays, shared by evaluation (training) and live
 * feedback metrics (serving). Definitions follow scikit-learn so numbers compare across tools:
 * ROC-AUC with tied scores counted half, PR-AUC as average precision (step-wise, no
 * interpolation), log loss with probabilities clipped to [1e-15, 1 - 1e-15].
 */
import type { Confusion } from '../schemas/metrics-files.ts';
import { DEFAULT_THRESHOLD, labelAt } from './decision.ts';

type Numbers = ArrayLike<number>;

export type { Confusion };

export function confusion(y: Numbers, p: Numbers, threshold: number): Confusion {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < y.length; i++) {
    const predicted = labelAt(p[i], threshold) === 1;
    if (y[i] === 1) {
      if (predicted) c.tp++;
      else c.fn++;
    } else if (predicted) c.fp++;
    else c.tn++;
  }
  return c;
}

/** Ratios that are 0/0 are reported as 0, as scikit-learn does (with its zero_division=0). */
const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

export function precision(c: Confusion): number {
  return ratio(c.tp, c.tp + c.fp);
}
export function recall(c: Confusion): number {
  return ratio(c.tp, c.tp + c.fn);
}
export function f1(c: Confusion): number {
  return ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
}
export function accuracy(c: Confusion): number {
  return ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn);
}

/** Indices sorted by score, descending. */
function byScoreDesc(p: Numbers): Uint32Array {
  const idx = new Uint32Array(p.length);
  let sorted = true;
  for (let i = 0; i < p.length; i++) {
    idx[i] = i;
    if (i > 0 && !(p[i - 1] >= p[i])) sorted = false;
  }
  // Already in order (every bootstrap resample of core/model/bootstrap.ts is): the comparator sort
  // would still cost a call per row, 200 resamples × 3 metrics per evaluate.
  return sorted ? idx : idx.sort((a, b) => p[b] - p[a] || a - b);
}

/** Cumulative (fp, tp) at each distinct threshold, highest first, as scikit-learn's _binary_clf_curve. */
export function thresholdCounts(
  y: Numbers,
  p: Numbers,
): { thresholds: Float64Array; tps: Float64Array; fps: Float64Array } {
  const order = byScoreDesc(p);
  // Typed arrays: a test split of millions of rows has nearly as many distinct scores.
  const thresholds = new Float64Array(order.length);
  const tps = new Float64Array(order.length);
  const fps = new Float64Array(order.length);
  let tp = 0,
    fp = 0,
    at = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (y[i] === 1) tp++;
    else fp++;
    const last = k === order.length - 1 || p[order[k + 1]] !== p[i];
    if (last) {
      thresholds[at] = p[i];
      tps[at] = tp;
      fps[at++] = fp;
    }
  }
  return { thresholds: thresholds.subarray(0, at), tps: tps.subarray(0, at), fps: fps.subarray(0, at) };
}

/**
 * Which of `length` points to keep so at most `max` remain, always the first and last, evenly
 * spaced (the plot files' rule).
 */
export function evenlySpaced(length: number, max = Infinity): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  const step = (length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => Math.round(i * step));
}

/** ROC-AUC; NaN when only one class is present (the area is undefined). */
export function rocAuc(y: Numbers, p: Numbers): number {
  return rocAucOfCounts(thresholdCounts(y, p));
}

/** Threshold counts as thresholdCounts gives them. */
export type ThresholdCounts = ReturnType<typeof thresholdCounts>;

/** rocAuc from the counts (a bootstrap resample scores ROC-AUC and PR-AUC from one set of counts). */
export function rocAucOfCounts({ tps, fps }: ThresholdCounts): number {
  const P = tps.at(-1) ?? 0;
  const N = fps.at(-1) ?? 0;
  if (P === 0 || N === 0) return NaN;
  let area = 0,
    prevTp = 0,
    prevFp = 0;
  for (let k = 0; k < tps.length; k++) {
    area += ((fps[k] - prevFp) * (tps[k] + prevTp)) / 2; // trapezoid: ties count half
    prevTp = tps[k];
    prevFp = fps[k];
  }
  return area / (P * N);
}

/** Average precision: Σ (R_k − R_{k−1}) · P_k over distinct thresholds. NaN without positives. */
export function averagePrecision(y: Numbers, p: Numbers): number {
  return averagePrecisionOfCounts(thresholdCounts(y, p));
}

/** averagePrecision from the counts. */
export function averagePrecisionOfCounts({ tps, fps }: ThresholdCounts): number {
  const P = tps.at(-1) ?? 0;
  if (P === 0) return NaN;
  let ap = 0,
    prevRecall = 0;
  for (let k = 0; k < tps.length; k++) {
    const r = tps[k] / P;
    ap += (r - prevRecall) * (tps[k] / (tps[k] + fps[k]));
    prevRecall = r;
  }
  return ap;
}

export function logLoss(y: Numbers, p: Numbers, eps = 1e-15): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - eps, Math.max(eps, p[i]));
    sum -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return y.length ? sum / y.length : NaN;
}

/** `maxPoints`: build only that many points, evenly spaced (`evenlySpaced`), not one per distinct score. */
export function rocCurve(
  y: Numbers,
  p: Numbers,
  maxPoints?: number,
): { fpr: number; tpr: number; threshold: number }[] {
  const { thresholds, tps, fps } = thresholdCounts(y, p);
  const P = tps.at(-1) ?? 0;
  const N = fps.at(-1) ?? 0;
  // Point 0 is the origin; point j > 0 is threshold j - 1.
  return evenlySpaced(thresholds.length + 1, maxPoints).map((j) =>
    j === 0
      ? { fpr: 0, tpr: 0, threshold: Infinity }
      : { fpr: ratio(fps[j - 1], N), tpr: ratio(tps[j - 1], P), threshold: thresholds[j - 1] },
  );
}

export function prCurve(
  y: Numbers,
  p: Numbers,
  maxPoints?: number,
): { recall: number; precision: number; threshold: number }[] {
  const { thresholds, tps, fps } = thresholdCounts(y, p);
  const P = tps.at(-1) ?? 0;
  return evenlySpaced(thresholds.length, maxPoints).map((k) => ({
    recall: ratio(tps[k], P),
    precision: ratio(tps[k], tps[k] + fps[k]),
    threshold: thresholds[k],
  }));
}

/** The threshold with the highest F1 (ties: the higher threshold, fewer alerts). */
export function bestF1Threshold(y: Numbers, p: Numbers): { threshold: number; f1: number } {
  const { thresholds, tps, fps } = thresholdCounts(y, p);
  const P = tps.at(-1) ?? 0;
  let best = { threshold: DEFAULT_THRESHOLD, f1: -1 };
  for (let k = 0; k < thresholds.length; k++) {
    const score = ratio(2 * tps[k], tps[k] + fps[k] + P);
    if (score > best.f1) best = { threshold: thresholds[k], f1: score };
  }
  return best.f1 < 0 ? { threshold: DEFAULT_THRESHOLD, f1: 0 } : best;
}

/** Reliability diagram data: uniform probability bins with mean prediction and observed rate. */
export function calibrationCurve(
  y: Numbers,
  p: Numbers,
  bins = 10,
): { bin: number; lower: number; upper: number; mean_predicted: number; fraction_positive: number; count: number }[] {
  const sums = new Float64Array(bins),
    pos = new Float64Array(bins),
    counts = new Float64Array(bins);
  for (let i = 0; i < y.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i] * bins)));
    sums[b] += p[i];
    pos[b] += y[i] === 1 ? 1 : 0;
    counts[b]++;
  }
  const out = [];
  for (let b = 0; b < bins; b++) {
    if (counts[b] === 0) continue;
    out.push({
      bin: b,
      lower: b / bins,
      upper: (b + 1) / bins,
      mean_predicted: sums[b] / counts[b],
      fraction_positive: pos[b] / counts[b],
      count: counts[b],
    });
  }
  return out;
}

export function classificationMetrics(y: Numbers, p: Numbers, threshold: number) {
  const c = confusion(y, p, threshold);
  return {
    accuracy: accuracy(c),
    precision: precision(c),
    recall: recall(c),
    f1: f1(c),
    roc_auc: rocAuc(y, p),
    pr_auc: averagePrecision(y, p),
    log_loss: logLoss(y, p),
    threshold,
    confusion: c,
  };
}

// ---- regression ----

export function mae(y: Numbers, yhat: Numbers): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += Math.abs(y[i] - yhat[i]);
  return y.length ? s / y.length : NaN;
}

export function rmse(y: Numbers, yhat: Numbers): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - yhat[i]) ** 2;
  return y.length ? Math.sqrt(s / y.length) : NaN;
}

/** Coefficient of determination; NaN when the target is constant (as 0/0). */
export function r2(y: Numbers, yhat: Numbers): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  let ssRes = 0,
    ssTot = 0;
  for (let i = 0; i < y.length; i++) {
    ssRes += (y[i] - yhat[i]) ** 2;
    ssTot += (y[i] - mean) ** 2;
  }
  return ssTot === 0 ? NaN : 1 - ssRes / ssTot;
}

/**
 * Symmetric MAPE in [0, 2]: |e| / ((|y| + |ŷ|) / 2), with 0/0 counted as a perfect 0. Unlike MAPE it
 * stays defined when the target is 0 (on-time flights have delay 0).
 */
export function smape(y: Numbers, yhat: Numbers): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const denom = (Math.abs(y[i]) + Math.abs(yhat[i])) / 2;
    s += denom === 0 ? 0 : Math.abs(y[i] - yhat[i]) / denom;
  }
  return y.length ? s / y.length : NaN;
}

export function regressionMetrics(y: Numbers, yhat: Numbers) {
  return { mae: mae(y, yhat), rmse: rmse(y, yhat), r2: r2(y, yhat), smape: smape(y, yhat) };
}
