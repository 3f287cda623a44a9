/**
 * The output activation and loss of the models core/model/network.ts compiles, over a batch of
 * logits: sigmoid with binary cross-entropy, softmax with categorical cross-entropy (labels are
 * class indices), or linear with mean squared error. The loss is tfjs-layers' (per-row loss ×
 * sample weight, averaged over the batch); its gradient is taken at the logits.
 */

export type LossKind = 'binary' | 'softmax' | 'mse';

const EPS = 1e-7;

export function lossKindOf(task: 'classification' | 'regression', classes: number): LossKind {
  return classes > 1 ? 'softmax' : task === 'classification' ? 'binary' : 'mse';
}

/** Logits [rows × units] → outputs (probabilities or values), in place. */
export function activateInPlace(kind: LossKind, z: Float32Array, units: number): void {
  if (kind === 'binary') for (let i = 0; i < z.length; i++) z[i] = 1 / (1 + Math.exp(-z[i]));
  else if (kind === 'softmax') for (let r = 0; r < z.length; r += units) softmaxRow(z, r, units);
}

function softmaxRow(z: Float32Array, at: number, units: number): void {
  let max = -Infinity;
  for (let u = 0; u < units; u++) max = Math.max(max, z[at + u]);
  let sum = 0;
  for (let u = 0; u < units; u++) sum += Math.exp(z[at + u] - max);
  for (let u = 0; u < units; u++) z[at + u] = Math.exp(z[at + u] - max) / sum;
}

/**
 * Replaces the logits [rows × units] by the gradient of the batch's mean loss with respect to
 * them, and returns that mean loss. `weight` maps a label to its sample weight (class weights).
 */
export function lossGradientInPlace(
  kind: LossKind,
  z: Float32Array,
  units: number,
  labels: Float32Array,
  weight?: (label: number) => number,
): number {
  const n = labels.length;
  let total = 0;
  for (let r = 0; r < n; r++) {
    const y = labels[r];
    const w = weight ? weight(y) : 1;
    if (kind === 'binary') {
      const s = z[r];
      // log(1 + e^s) − y·s, written so neither exp overflows.
      total += w * (Math.max(s, 0) - s * y + Math.log1p(Math.exp(-Math.abs(s))));
      z[r] = (w * (1 / (1 + Math.exp(-s)) - y)) / n;
    } else if (kind === 'mse') {
      const d = z[r] - y;
      total += w * d * d;
      z[r] = (2 * w * d) / n;
    } else {
      const at = r * units;
      softmaxRow(z, at, units);
      total += -w * Math.log(Math.max(z[at + y], EPS));
      for (let u = 0; u < units; u++) z[at + u] = (w * (z[at + u] - (u === y ? 1 : 0))) / n;
    }
  }
  return total / n;
}
