/**
 * Probability calibration, fitted on validation scores only and stored in the model bundle:
 * Platt scaling (a logistic regression on the logit of the score), beta calibration (the same on
 * ln(score) and ln(1 − score) separately, so the two tails may bend differently) or isotonic
 * regression (pool adjacent violators, applied by linear interpolation between its knots and
 * clipped at the ends, as scikit-learn's IsotonicRegression). `chooseCalibration` picks the method
 * by cross-fitted validation log loss (5 interleaved folds: fit on four, score the fifth; a more
 * flexible method must win by a margin) and refits it on all of validation. Pure functions;
 * core/model/forward.ts applies the result for every consumer.
 */
import { logLoss } from './quality-metrics.ts';
import { fitLogistic } from './logistic-fit.ts';
import type { BetaCalibration, Calibration, IsotonicCalibration, PlattCalibration } from '../schemas/bundle-meta.ts';

type Numbers = ArrayLike<number>;

/** A calibration's shape is its schema's in bundle.json (core/schemas/bundle-meta.ts). */
export type { BetaCalibration, Calibration, IsotonicCalibration, PlattCalibration };

const EPS = 1e-7;
export const logit = (p: number) => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Platt scaling: a logistic regression on the logit of the score, by Newton's method with step
 * halving and a tiny ridge so perfectly separable data still gives finite parameters. (Plain
 * Newton steps diverged on trees' scores whose logits reach −12: a = −5 · 10⁵ on a backtest cut.)
 */
export function fitPlatt(scores: Numbers, y: Numbers): PlattCalibration {
  const n = scores.length;
  if (n === 0) throw new Error('Platt calibration needs at least one validation score');
  const z = Float64Array.from({ length: n }, (_, i) => logit(scores[i]));
  const [a, b] = fitLogistic([z], y, [1]);
  return { method: 'platt', a, b };
}

const clip = (p: number) => Math.min(1 - EPS, Math.max(EPS, p));
/** Beta calibration's inputs of one score: ln(score) and −ln(1 − score), clipped as `logit` is. */
const betaInputs = (p: number): [number, number] => [Math.log(clip(p)), -Math.log(1 - clip(p))];

/**
 * Beta calibration: logit(calibrated) = a · ln(score) − b · ln(1 − score) + c, a and b ≥ 0 so the
 * map never decreases. As Kull et al. do, a slope that comes out negative is fixed at 0 and the
 * rest refitted (both negative: the base rate for every score).
 */
export function fitBeta(scores: Numbers, y: Numbers): BetaCalibration {
  const n = scores.length;
  if (n === 0) throw new Error('beta calibration needs at least one validation score');
  const u = new Float64Array(n),
    v = new Float64Array(n);
  for (let i = 0; i < n; i++) [u[i], v[i]] = betaInputs(scores[i]);
  const [a, b, c] = fitLogistic([u, v], y, [1, 1]);
  if (a >= 0 && b >= 0) return { method: 'beta', a, b, c };
  const [kept, c1] = a < 0 ? fitLogistic([v], y, [1]) : fitLogistic([u], y, [1]);
  if (kept >= 0) return a < 0 ? { method: 'beta', a: 0, b: kept, c: c1 } : { method: 'beta', a: kept, b: 0, c: c1 };
  let positives = 0;
  for (let i = 0; i < n; i++) positives += y[i];
  return { method: 'beta', a: 0, b: 0, c: logit(positives / n) };
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
  if (c.method === 'beta') {
    const [u, v] = betaInputs(p);
    return sigmoid(c.a * u + c.b * v + c.c);
  }
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
  /**
   * Cross-fitted validation log loss per method, and of the uncalibrated scores; the chosen method
   * need not have the lowest (see chooseCalibration).
   */
  validation_log_loss: { uncalibrated: number; platt: number; beta: number; isotonic: number };
}

/** The methods in order of flexibility: a later one must beat the one chosen so far by a margin. */
const fitters = { platt: fitPlatt, beta: fitBeta, isotonic: fitIsotonic } as const;
const FOLDS = 5;
/** How many standard errors of the per-row difference a more flexible method must gain by. */
const MARGIN_SE = 2;
/** Validation rows the choice looks at (the chosen method is then fitted on all of them). */
export const CHOICE_ROWS = 60_000;

/** Per-row log loss (clipped as quality-metrics' logLoss). */
const rowLoss = (y: number, p: number) => {
  const q = Math.min(1 - 1e-15, Math.max(1e-15, p));
  return y === 1 ? -Math.log(q) : -Math.log(1 - q);
};

/**
 * Pick Platt, beta or isotonic by 5-fold cross-fitted log loss on validation (rows i ≡ f mod 5
 * form fold f; each is scored by the map fitted on the other four), then refit it on all of
 * validation. Four fifths is close to the final fit's size, so the flexible methods are not
 * penalised for a variance the refit does not have (2 halves chose Platt for trees whose
 * miscalibration bends: docs/model-quality.md "Calibration"). A more flexible method replaces a
 * simpler one only when it lowers the loss by 2 standard errors of the paired per-row
 * difference: on a few hundred rows an extra parameter often wins by chance. Beyond CHOICE_ROWS
 * validation rows the choice (and `validation_log_loss`) uses an even spread of that many, where
 * the differences' standard errors are already ~0.0003 (full data has 300,000 validation rows),
 * and only the final fit sees them all.
 */
export function chooseCalibration(scores: Numbers, y: Numbers): CalibrationChoice {
  const total = scores.length;
  if (total < 2) throw new Error(`calibration needs at least 2 validation rows, got ${total}`);
  // The choice needs far fewer rows than the fit: every step-th row, at most CHOICE_ROWS of them.
  const step = Math.ceil(total / CHOICE_ROWS);
  const n = Math.ceil(total / step);
  const s = new Float64Array(n),
    t = new Float64Array(n);
  for (let j = 0; j < n; j++) [s[j], t[j]] = [scores[j * step], y[j * step]];
  const k = Math.min(FOLDS, n);
  const crossFitted = (method: keyof typeof fitters) => {
    const loss = new Float64Array(n);
    for (let f = 0; f < k; f++) {
      const rest = n - Math.ceil((n - f) / k);
      const rs = new Float64Array(rest),
        ry = new Float64Array(rest);
      for (let i = 0, m = 0; i < n; i++) if (i % k !== f) [rs[m], ry[m++]] = [s[i], t[i]];
      const c = fitters[method](rs, ry);
      for (let i = f; i < n; i += k) loss[i] = rowLoss(t[i], applyCalibration(c, s[i]));
    }
    return loss;
  };
  const perRow = { platt: crossFitted('platt'), beta: crossFitted('beta'), isotonic: crossFitted('isotonic') };
  let method: keyof typeof fitters = 'platt';
  for (const m of ['beta', 'isotonic'] as const) {
    const { mean, se } = meanAndSe(perRow[m], perRow[method]);
    if (mean < -MARGIN_SE * se) method = m;
  }
  const avg = (l: Float64Array) => meanAndSe(l).mean;
  return {
    calibration: fitters[method](scores, y),
    validation_log_loss: {
      uncalibrated: logLoss(y, scores),
      platt: avg(perRow.platt),
      beta: avg(perRow.beta),
      isotonic: avg(perRow.isotonic),
    },
  };
}

/** Mean and standard error of a − b (or of a alone) row by row. */
function meanAndSe(a: Float64Array, b?: Float64Array): { mean: number; se: number } {
  const n = a.length;
  let s = 0,
    ss = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i] - (b ? b[i] : 0);
    s += d;
    ss += d * d;
  }
  const mean = s / n;
  return { mean, se: n > 1 ? Math.sqrt(Math.max(0, ss / n - mean * mean) / (n - 1)) : Infinity };
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
