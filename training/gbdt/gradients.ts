/**
 * Gradient and hessian of the loss for class `c` at the scores `raw` (rows × k), rows r0…r1−1:
 * log loss (sigmoid), multi-class log loss (softmax; gradient p − 1[y=c], hessian p(1−p)) or
 * squared error. Each row depends on its own scores only, so rows can be split between threads
 * (./engine.ts) without changing a bit.
 */
import type { TreeEnsembleJson } from '../../core/model/trees.ts';

export type Objective = TreeEnsembleJson['objective'];

export function gradients(
  objective: Objective,
  raw: Float64Array,
  y: Float32Array,
  weight: Float32Array | undefined,
  k: number,
  c: number,
  grad: Float32Array,
  hess: Float32Array,
  r0 = 0,
  r1 = y.length,
): void {
  // One loop per objective and weighting: the per-row branches cost more than the arithmetic.
  // Each does the same float operations as the general formula (a weight of 1 multiplies exactly).
  if (objective === 'binary') {
    if (weight)
      for (let r = r0; r < r1; r++) {
        const w = weight[r];
        const p = 1 / (1 + Math.exp(-raw[r]));
        grad[r] = w * (p - y[r]);
        hess[r] = w * Math.max(p * (1 - p), 1e-16);
      }
    else
      for (let r = r0; r < r1; r++) {
        const p = 1 / (1 + Math.exp(-raw[r]));
        grad[r] = p - y[r];
        hess[r] = Math.max(p * (1 - p), 1e-16);
      }
    return;
  }
  if (objective === 'regression') {
    for (let r = r0; r < r1; r++) {
      const w = weight ? weight[r] : 1;
      grad[r] = w * (raw[r] - y[r]);
      hess[r] = w;
    }
    return;
  }
  for (let r = r0; r < r1; r++) {
    const w = weight ? weight[r] : 1;
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, raw[r * k + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(raw[r * k + j] - max);
    const p = Math.exp(raw[r * k + c] - max) / sum;
    grad[r] = w * (p - (y[r] === c ? 1 : 0));
    hess[r] = w * Math.max(p * (1 - p), 1e-16);
  }
}
