/**
 * A small logistic regression (a few columns and an intercept) fitted by Newton's method, for the
 * calibration maps of core/model/calibration.ts.
 */
type Numbers = ArrayLike<number>;

/**
 * Maximum-likelihood logistic regression of y on the given columns plus an intercept, by Newton's
 * method with step halving (the log loss is convex), a tiny ridge pulling the slopes towards
 * `start` so separable data still gives finite parameters. Returns the slopes, then the intercept.
 */
export function fitLogistic(columns: Float64Array[], y: Numbers, start: number[]): number[] {
  const n = y.length,
    d = columns.length + 1;
  const ridge = 1e-6 * n;
  // Row-major with a trailing 1 for the intercept: one pass per evaluation reads each row once.
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d - 1; j++) x[i * d + j] = columns[j][i];
    x[i * d + d - 1] = 1;
  }
  /** Penalised loss, gradient and lower-triangular Hessian (flat, d × d) at w, in one pass. */
  const evaluate = (w: number[]) => {
    const g = new Float64Array(d),
      h = new Float64Array(d * d);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      let z = 0;
      for (let j = 0; j < d; j++) z += w[j] * x[o + j];
      // log(1 + e^z) − y·z and sigmoid(z) from one exponential, stable for large |z|
      const e = Math.exp(-Math.abs(z));
      loss += (z > 0 ? z : 0) + Math.log1p(e) - y[i] * z;
      const p = z > 0 ? 1 / (1 + e) : e / (1 + e);
      const r = p - y[i],
        q = Math.max(p * (1 - p), 1e-12);
      for (let j = 0; j < d; j++) {
        const xj = x[o + j];
        g[j] += r * xj;
        for (let k = 0; k <= j; k++) h[j * d + k] += q * xj * x[o + k];
      }
    }
    for (let j = 0; j < d - 1; j++) {
      loss += 0.5 * ridge * (w[j] - start[j]) ** 2;
      g[j] += ridge * (w[j] - start[j]);
      h[j * d + j] += ridge;
    }
    return { loss, g, h };
  };
  let w = [...start.slice(0, d - 1), 0];
  let at = evaluate(w);
  for (let it = 0; it < 100; it++) {
    const step = solveSymmetric(at.h, at.g, d);
    if (!step) break;
    let t = 1,
      accepted: { w: number[]; e: ReturnType<typeof evaluate> } | null = null;
    for (let k = 0; k < 30 && !accepted; k++, t /= 2) {
      const next = w.map((v, j) => v - t * step[j]);
      const e = evaluate(next);
      if (e.loss <= at.loss) accepted = { w: next, e };
    }
    if (!accepted) break;
    const moved = Math.max(...w.map((v, j) => Math.abs(v - accepted.w[j])));
    w = accepted.w;
    at = accepted.e;
    if (moved < 1e-10) break;
  }
  return w;
}

/** Solves H·s = g for a small symmetric positive-definite H given by its lower triangle (flat, d × d; Cholesky); null if it is not. */
function solveSymmetric(h: Float64Array, g: Float64Array, d: number): number[] | null {
  const l = Array.from({ length: d }, () => new Float64Array(d));
  for (let j = 0; j < d; j++) {
    for (let k = 0; k <= j; k++) {
      let s = h[j * d + k];
      for (let m = 0; m < k; m++) s -= l[j][m] * l[k][m];
      if (j === k) {
        if (!(s > 0)) return null;
        l[j][j] = Math.sqrt(s);
      } else l[j][k] = s / l[k][k];
    }
  }
  const z = new Array<number>(d);
  for (let j = 0; j < d; j++) {
    let s = g[j];
    for (let m = 0; m < j; m++) s -= l[j][m] * z[m];
    z[j] = s / l[j][j];
  }
  const out = new Array<number>(d);
  for (let j = d - 1; j >= 0; j--) {
    let s = z[j];
    for (let m = j + 1; m < d; m++) s -= l[m][j] * out[m];
    out[j] = s / l[j][j];
  }
  return out;
}
