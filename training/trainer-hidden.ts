/**
 * The hidden layers of training/embedding-trainer.ts in tfjs, feature-major: activations are
 * [units × batch], so every product is a plain matMul (the wasm backend's matMul with a transpose
 * flag, and its transposes and axis-0 sums, cost several times more; docs/training-speed.md).
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { DenseLayer } from './trainer-batch.ts';

type TF = typeof tfjs;

/**
 * The hidden layers on a feature-major input [(inputs + 1) × b] whose last row is ones (the first
 * layer's bias rides on it); returns the last layer's activations [units × b], or the input rows
 * without the ones when there are no hidden layers. `keep` receives each later layer's input.
 */
export function hiddenForward(
  tf: TF,
  layers: readonly DenseLayer[],
  xt: Float32Array,
  b: number,
  keep?: tfjs.Tensor[],
): Float32Array {
  if (layers.length === 0) return xt.subarray(0, xt.length - b);
  let out = xt;
  // tidy walks whatever its function returns, element by element: results leave by assignment.
  tf.tidy(() => {
    const [first, ...rest] = layers;
    let h = tf.fused.matMul({
      a: tf.tensor2d(withBiasColumn(first), [first.units, first.inputs + 1]),
      b: tf.tensor2d(xt, [first.inputs + 1, b]),
      activation: 'relu',
    });
    for (const layer of rest) {
      if (keep) keep.push(tf.keep(h));
      const w = tf.tensor2d(transpose(layer.kernel.w, layer.inputs, layer.units), [layer.units, layer.inputs]);
      h = tf.relu(tf.add(tf.matMul(w, h), tf.tensor2d(layer.bias.w, [layer.units, 1])));
    }
    out = h.dataSync() as Float32Array;
  });
  return out;
}

/**
 * Back through the hidden layers from the gradient at the last one's pre-activation (`last.gt`
 * feature-major, `last.g` row-major when there are two layers or more), adding every weight
 * gradient into its slot. `x` is the first layer's input row-major [b × (inputs + 1)], `inputs`
 * what hiddenForward kept. Returns dXᵀ, the gradient at the first layer's input [inputs × b],
 * when `dx` asks for it.
 */
export function hiddenBackward(
  tf: TF,
  layers: readonly DenseLayer[],
  o: { b: number; x: Float32Array; last: { gt: Float32Array; g?: Float32Array }; inputs: tfjs.Tensor[]; dx: boolean },
): Float32Array | undefined {
  const { b } = o;
  let dxT: Float32Array | undefined;
  tf.tidy(() => {
    let gt = tf.tensor2d(o.last.gt, [layers[layers.length - 1].units, b]);
    for (let l = layers.length - 1; l > 0; l--) {
      const layer = layers[l];
      const input = o.inputs[l - 1];
      const g = l === layers.length - 1 ? tf.tensor2d(o.last.g!, [b, layer.units]) : tf.transpose(gt);
      addInto(layer.kernel.g, tf.matMul(input, g).dataSync());
      addInto(layer.bias.g, tf.sum(gt, 1).dataSync());
      gt = tf.mul(tf.matMul(tf.tensor2d(layer.kernel.w, [layer.inputs, layer.units]), gt), tf.step(input));
    }
    const first = layers[0];
    const w1 = first.inputs + 1;
    // [units × (inputs + 1)]: the kernel's gradient transposed, then the bias's as the last column.
    const d = tf.matMul(gt, tf.tensor2d(o.x, [b, w1])).dataSync();
    for (let u = 0; u < first.units; u++) {
      for (let i = 0; i < first.inputs; i++) first.kernel.g[i * first.units + u] += d[u * w1 + i];
      first.bias.g[u] += d[u * w1 + first.inputs];
    }
    if (o.dx) dxT = tf.matMul(tf.tensor2d(first.kernel.w, [first.inputs, first.units]), gt).dataSync() as Float32Array;
  });
  return dxT;
}

/** A first layer's weights as [units × (inputs + 1)]: the kernel transposed, the bias as the last column. */
function withBiasColumn(layer: DenseLayer): Float32Array {
  const { inputs, units } = layer;
  const out = new Float32Array(units * (inputs + 1));
  for (let u = 0; u < units; u++) {
    for (let i = 0; i < inputs; i++) out[u * (inputs + 1) + i] = layer.kernel.w[i * units + u];
    out[u * (inputs + 1) + inputs] = layer.bias.w[u];
  }
  return out;
}

function addInto(to: Float32Array, from: ArrayLike<number>): void {
  for (let i = 0; i < to.length; i++) to[i] += from[i];
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}
