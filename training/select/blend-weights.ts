/**
 * A blend's weights by greedy ensemble selection with replacement (Caruana et al., 2004): add the
 * member whose addition most lowers the mean loss of the running average, `rounds` times; a
 * member's weight is its share of the additions. The selection starts from one copy of every
 * member (the equal-weight blend) rather than from empty, so each member keeps at least
 * 1/(members + rounds) of the weight: a few hundred rows move the weights only that far from
 * equal, and the bundle keeps every member it was given. The weights are multiples of
 * 1/(members + rounds), a coarse grid that fits less to the rows than free weights would. The
 * rows are the members' out-of-fold outputs (./blend-oof.ts), so no member is judged on rows it
 * learned. Measured against free simplex weights and against starting empty: docs/model-quality.md.
 */
import type { PrimaryMetric } from '../fit.ts';

export const GREEDY_ROUNDS = 25;

const EPS = 1e-15;

/** The per-row loss the weights minimise: log loss of the actual class, or the regression primary's error (absolute for mae, squared otherwise). */
export function rowLoss(
  task: 'classification' | 'regression',
  primary: PrimaryMetric,
  k: number,
): (y: Float32Array, p: Float64Array, row: number) => number {
  if (task === 'regression')
    return primary === 'mae' ? (y, p, i) => Math.abs(y[i] - p[i]) : (y, p, i) => (y[i] - p[i]) ** 2;
  if (k > 1) return (y, p, i) => -Math.log(Math.min(1 - EPS, Math.max(EPS, p[i * k + y[i]])));
  return (y, p, i) => {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i]));
    return y[i] > 0.5 ? -Math.log(q) : -Math.log(1 - q);
  };
}

/** Mean loss of each member alone. */
export function memberLosses(y: Float32Array, outputs: readonly Float32Array[], loss: ReturnType<typeof rowLoss>) {
  return outputs.map((o) => meanLoss(y, Float64Array.from(o), loss));
}

function meanLoss(y: Float32Array, p: Float64Array, loss: ReturnType<typeof rowLoss>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += loss(y, p, i);
  return s / y.length;
}

/**
 * Weights summing to 1, each at least 1/(members + rounds). `outputs[m]` holds member m's outputs
 * for the rows of `y` (k per row for k classes). A tie goes to the earlier member (1e-12 of
 * loss), so the result does not depend on floating-point noise. `fromEmpty`: Caruana's original
 * start, no copy of any member, so the first round picks the best member alone and a member
 * never picked gets weight 0 (weights are then multiples of 1/rounds).
 */
export function greedyWeights(
  y: Float32Array,
  outputs: readonly Float32Array[],
  loss: ReturnType<typeof rowLoss>,
  rounds = GREEDY_ROUNDS,
  fromEmpty = false,
): number[] {
  const width = outputs[0].length;
  const sum = new Float64Array(width);
  const start = fromEmpty ? 0 : 1;
  if (!fromEmpty) for (const o of outputs) for (let j = 0; j < width; j++) sum[j] += o[j];
  const trial = new Float64Array(width);
  const counts = new Array<number>(outputs.length).fill(start);
  for (let r = 0; r < rounds; r++) {
    const n = start * outputs.length + r + 1;
    let best = -1;
    let bestLoss = Infinity;
    for (const [m, o] of outputs.entries()) {
      for (let j = 0; j < width; j++) trial[j] = (sum[j] + o[j]) / n;
      const l = meanLoss(y, trial, loss);
      if (l < bestLoss - 1e-12) [best, bestLoss] = [m, l];
    }
    if (best < 0) throw new Error(`blend weights: no member gives a finite loss (round ${r + 1})`);
    counts[best]++;
    const o = outputs[best];
    for (let j = 0; j < width; j++) sum[j] += o[j];
  }
  return counts.map((c) => c / (start * outputs.length + rounds));
}
