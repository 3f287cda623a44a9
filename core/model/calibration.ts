/**
 * Probability calibration, fitted on validation scores only and stored in the model bundle:
 * Platt scaling (a logistic regression on the logit of the score) or isotonic regression (pool
 * adjacent violators, applied by linear interpolation between its knots and clipped at the ends,
 * as scikit-learn's IsotonicRegression). `chooseCalibration` picks the method by cross-fitted
 * validation log loss (fit on one half, score the other, both ways) and refits it on all of
 * validation. Pure functions; core/model/forward.ts applies the result for every consumer.
 */
import { logLoss } from './quality-metrics.ts';
import type { Calibration, IsotonicCalibration, PlattCalibration } from '../schemas/bundle-meta.ts';

type Numbers = ArrayLike<number>;

/** A calibration's shape is its schema's in bundle.json (core/schemas/bundle-meta.ts). */
export type { Calibration, IsotonicCalibration, PlattCalibration };

const EPS = 1e-7;
export const logit = (p: number) => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Platt scaling by Newton's method on the two parameters (the log loss is convex in them), with a
 * tiny ridge so perfectly separable data still gives finite parameters.
 */
export function fitPlatt(scores: Numbers, y: Numbers, iterations = 50): PlattCalibration {
  const n = scores.length;
  if (n === 0) throw new Error('Platt calibration needs at least one validation score');
  const z = Float64Array.from({ length: n }, (_, i) => logit(scores[i]));
  let a = 1,
    b = 0;
  const ridge = 1e-6 * n;
  for (let it = 0; it < iterations; it++) {
    let ga = ridge * (a - 1),
      gb = 0,
      haa = ridge,
      hab = 0,
      hbb = ridge;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(a * z[i] + b);
      const r = p - y[i];
      const w = Math.max(p * (1 - p), 1e-12);
      ga += r * z[i];
      gb += r;
      haa += w * z[i] * z[i];
      hab += w * z[i];
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) < 1e-10 && Math.abs(db) < 1e-10) break;
  }
  return { method: 'platt', a, b };
}

/**
 * Isotonic regression of y on the scores by pool-adjacent-violators over the sorted unique scores
 * (equal scores form one block first, as scikit-learn does). Knots are each block's lowest and
 * highest score at its mean; consecutive knots with the same value are merged.
 */
export function fitIsotonic(scores: Numbers, y: Numbers): IsotonicCalibration {
  const n = scores.length;
  if (n === 0) throw new Error('isotonic calibration needs at least one validation score');
  const order = Uint32Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[i] - scores[j]);
  // Blocks: [lowest x, highest x, sum of y, weight], merged while a block's mean is below its predecessor's.
  const lo: number[] = [],
    hi: number[] = [],
    sum: number[] = [],
    w: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const x = scores[i];
    if (lo.length && hi[hi.length - 1] === x) {
      sum[sum.length - 1] += y[i];
      w[w.length - 1]++;
    } else {
      lo.push(x);
      hi.push(x);
      sum.push(y[i]);
      w.push(1);
    }
    while (lo.length > 1 && sum[sum.length - 2] / w[w.length - 2] >= sum[sum.length - 1] / w[w.length - 1]) {
      const s = sum.pop()!,
        ww = w.pop()!,
        h = hi.pop()!;
      lo.pop();
      sum[sum.length - 1] += s;
      w[w.length - 1] += ww;
      hi[hi.length - 1] = h;
    }
  }
  const xs: number[] = [],
    ys: number[] = [];
  for (let b = 0; b < lo.length; b++) {
    const v = sum[b] / w[b];
    xs.push(lo[b]);
    ys.push(v);
    if (hi[b] !== lo[b]) {
      xs.push(hi[b]);
      ys.push(v);
    }
  }
  // Drop interior knots of flat runs (x1 < x2 < x3 with equal y): interpolation is unchanged.
  const keepX: number[] = [],
    keepY: number[] = [];
  for (let k = 0; k < xs.length; k++) {
    if (k > 0 && k < xs.length - 1 && ys[k - 1] === ys[k] && ys[k] === ys[k + 1]) continue;
    keepX.push(xs[k]);
    keepY.push(ys[k]);
  }
  return { method: 'isotonic', x: keepX, y: keepY };
}

export function applyCalibration(c: Calibration, p: number): number {
  if (c.method === 'platt') return sigmoid(c.a * logit(p) + c.b);
  // Multi-class bundles apply it to every logit (core/model/forward.ts); on one probability it is Platt with b = 0.
  if (c.method === 'temperature') return sigmoid(logit(p) / c.temperature);
  const { x, y } = c;
  if (!(p > x[0])) return y[0]; // also NaN → lowest knot
  const last = x.length - 1;
  if (p >= x[last]) return y[last];
  let lo = 0,
    hi = last; // x[lo] < p < x[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid] <= p) lo = mid;
    else hi = mid;
  }
  const t = (p - x[lo]) / (x[hi] - x[lo]);
  return y[lo] + t * (y[hi] - y[lo]);
}

export function calibrateAll(c: Calibration, p: Numbers): Float32Array {
  return Float32Array.from({ length: p.length }, (_, i) => applyCalibration(c, p[i]));
}

/** Expected calibration error over `bins` equal-width probability bins: Σ n_b/n · |mean p_b − rate_b|. */
export function expectedCalibrationError(y: Numbers, p: Numbers, bins = 10): number {
  const n = y.length;
  if (n === 0) return NaN;
  const sp = new Float64Array(bins),
    sy = new Float64Array(bins),
    cnt = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i] * bins)));
    sp[b] += p[i];
    sy[b] += y[i];
    cnt[b]++;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (cnt[b]) e += Math.abs(sp[b] - sy[b]) / n;
  return e;
}

export interface CalibrationChoice {
  calibration: Calibration;
  /** Cross-fitted validation log loss per method, and of the uncalibrated scores. */
  validation_log_loss: { uncalibrated: number; platt: number; isotonic: number };
}

const fitters = { platt: fitPlatt, isotonic: fitIsotonic } as const;

/** Pick Platt or isotonic by 2-fold cross-fitted log loss on validation, then refit on all of it. */
export function chooseCalibration(scores: Numbers, y: Numbers): CalibrationChoice {
  const n = scores.length;
  if (n < 2) throw new Error(`calibration needs at least 2 validation rows, got ${n}`);
  const folds = [0, 1].map((f) => Uint32Array.from({ length: Math.floor((n - f + 1) / 2) }, (_, k) => 2 * k + f));
  const pick = (a: Numbers, idx: Uint32Array) => Float64Array.from(idx, (i) => a[i]);
  const crossFitted = (method: keyof typeof fitters) => {
    const out = new Float64Array(n);
    for (const f of [0, 1]) {
      const c = fitters[method](pick(scores, folds[f]), pick(y, folds[f]));
      for (const i of folds[1 - f]) out[i] = applyCalibration(c, scores[i]);
    }
    return logLoss(y, out);
  };
  const losses = { uncalibrated: logLoss(y, scores), platt: crossFitted('platt'), isotonic: crossFitted('isotonic') };
  const method = losses.isotonic < losses.platt ? 'isotonic' : 'platt';
  return { calibration: fitters[method](scores, y), validation_log_loss: losses };
}

/**
 * Why a calibration read from a bundle would give a non-finite probability for some score, or
 * null. Its numbers are finite by its schema (bundle.json cannot hold NaN, and 1e999 is refused);
 * the shape is checked here: isotonic knots must exist, pair up, increase and stay in [0, 1].
 */
export function calibrationProblem(c: Calibration): string | null {
  if (c.method !== 'isotonic') return null; // Platt: two finite numbers cannot give NaN (logit is clipped)
  const { x, y } = c;
  if (x.length === 0) return 'isotonic calibration has no knots';
  if (x.length !== y.length) return `isotonic calibration has ${x.length} x knots but ${y.length} y values`;
  for (let i = 0; i < x.length; i++) {
    if (i > 0 && !(x[i] > x[i - 1])) return `isotonic calibration knot x[${i}] = ${x[i]} does not increase`;
    if (!(y[i] >= 0 && y[i] <= 1)) return `isotonic calibration value y[${i}] = ${y[i]} is not a probability`;
  }
  return null;
}
