/**
 * Inference without TensorFlow.js: the models core/model/network.ts builds (embedding or one-hot inputs,
 * dense ReLU layers, an optional wide part, one sigmoid or linear output, then the bundle's
 * calibration) evaluated in plain JavaScript from their weights. A tfjs call costs ~100 µs of
 * bookkeeping however small the batch; this costs a few µs per row, and gives the same numbers on
 * every backend (tfjs-node, wasm, cpu), so a bundle's golden outputs hold wherever it is served.
 * Training still fits with tfjs.
 *
 * Layer names are the contract: `emb_cat_<f>` (a [categories × dim] table feeding `hidden_0`),
 * `hidden_<i>`, `wide_cat_<f>` (one weight per category feeding `output` directly), `output`.
 * Bundles from before the wide part (one-hot straight into `output`) compute the same way: their
 * output kernel's slice per feature is that feature's wide table.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { EncodedFeatures } from './features.ts';
import { applyCalibration, type Calibration } from './calibration.ts';

interface Dense {
  kernel: Float64Array; // [inputs × units], row-major
  bias: Float64Array | null;
  inputs: number;
  units: number;
}

export interface ForwardNet {
  kind: 'logistic' | 'mlp';
  numericWidth: number;
  categorical: { name: string; cardinality: number }[];
  hidden: Dense[];
  output: Dense;
  activation: 'sigmoid' | 'linear' | 'softmax';
  /**
   * MLP: embedding × first-layer weights, pre-multiplied per category ([cardinality × units of
   * hidden_0]), so a row's first layer is a few vector additions. Empty without hidden layers.
   */
  fused: Float64Array[];
  /** Per categorical input with a wide part: its contribution to the output logits, per category ([cardinality × output units]). */
  wide: (Float64Array | null)[];
  /** Classification: the bundle's calibration (fitted on validation), applied to every output. */
  calibration: Calibration | null;
}

function dense(layer: tfjs.layers.Layer): Dense {
  const [k, b] = layer.getWeights();
  const [inputs, units] = k.shape as [number, number];
  return { kernel: Float64Array.from(k.dataSync()), bias: b ? Float64Array.from(b.dataSync()) : null, inputs, units };
}

const layerName = (prefix: string, feature: string) => `${prefix}_cat_${feature.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** Read the weights of a model built by core/model/network.ts (layer names are its contract). */
export function compileForward(
  model: tfjs.LayersModel,
  categorical: { name: string; cardinality: number }[],
  numericWidth: number,
  calibration: Calibration | null = null,
): ForwardNet {
  const names = new Set(model.layers.map((l) => l.name));
  const kind = names.has('hidden_0') ? 'mlp' : 'logistic';
  const hidden: Dense[] = [];
  for (let i = 0; names.has(`hidden_${i}`); i++) hidden.push(dense(model.getLayer(`hidden_${i}`)));
  const outputLayer = model.getLayer('output');
  const configured = outputLayer.getConfig().activation as string;
  const activation = configured === 'sigmoid' || configured === 'softmax' ? configured : 'linear';
  if (calibration && activation === 'linear')
    throw new Error('a calibration applies to probabilities; this model has a linear (regression) output');
  const output = dense(outputLayer);
  const legacyOneHot = kind === 'logistic' && categorical.some((c) => !names.has(layerName('wide', c.name)));

  // Deep part: embeddings concatenated after the numeric inputs, into hidden_0.
  const fused: Float64Array[] = [];
  if (kind === 'mlp') {
    const first = hidden[0];
    const units = first.units;
    let offset = numericWidth;
    for (const c of categorical) {
      const e = dense(model.getLayer(layerName('emb', c.name)));
      const table = new Float64Array(c.cardinality * units);
      for (let k = 0; k < c.cardinality; k++) {
        for (let d = 0; d < e.units; d++) {
          const v = e.kernel[k * e.units + d];
          const base = (offset + d) * units;
          for (let u = 0; u < units; u++) table[k * units + u] += v * first.kernel[base + u];
        }
      }
      fused.push(table);
      offset += e.units;
    }
    if (first.inputs !== offset)
      throw new Error(`model layout mismatch: hidden_0 takes ${first.inputs} inputs, features give ${offset}`);
  }

  // Wide part: after the numeric inputs (logistic) or the last hidden layer (mlp), into output.
  let offset = kind === 'mlp' ? hidden[hidden.length - 1].units : numericWidth;
  const wide = categorical.map((c) => {
    if (legacyOneHot) {
      const table = output.kernel.slice(offset, offset + c.cardinality);
      offset += c.cardinality;
      return table;
    }
    if (!names.has(layerName('wide', c.name))) return null;
    const w = dense(model.getLayer(layerName('wide', c.name)));
    const k = output.units;
    const row = offset++ * k;
    const table = new Float64Array(w.kernel.length * k);
    for (let i = 0; i < w.kernel.length; i++)
      for (let u = 0; u < k; u++) table[i * k + u] = w.kernel[i] * output.kernel[row + u];
    return table;
  });
  if (output.inputs !== offset)
    throw new Error(`model layout mismatch: output takes ${output.inputs} inputs, features give ${offset}`);
  return {
    kind,
    numericWidth,
    categorical: categorical.map(({ name, cardinality }) => ({ name, cardinality })),
    hidden,
    output,
    activation,
    fused,
    wide,
    calibration,
  };
}

/**
 * Outputs for every encoded row (calibrated probabilities, or values before any target scaling),
 * rounded to float32; a softmax model gives rows × classes, row-major.
 */
export function forward(net: ForwardNet, enc: EncodedFeatures): Float32Array {
  const n = enc.rows;
  const o = net.output;
  const k = o.units;
  const out = new Float32Array(n * k);
  const width = net.numericWidth;
  const buffers = net.hidden.map((h) => new Float64Array(h.units));
  const s = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    for (let u = 0; u < k; u++) s[u] = o.bias ? o.bias[u] : 0;
    if (net.hidden.length === 0) {
      for (let j = 0; j < width; j++) {
        const xj = enc.numeric[r * width + j];
        for (let u = 0; u < k; u++) s[u] += xj * o.kernel[j * k + u];
      }
    } else {
      // First layer: bias + numeric inputs × weights + one pre-multiplied row per categorical input.
      const h0 = net.hidden[0];
      const units0 = h0.units;
      const y0 = buffers[0];
      const k0 = h0.kernel;
      for (let u = 0; u < units0; u++) y0[u] = h0.bias ? h0.bias[u] : 0;
      for (let j = 0; j < width; j++) {
        const xj = enc.numeric[r * width + j];
        const base = j * units0;
        for (let u = 0; u < units0; u++) y0[u] += xj * k0[base + u];
      }
      for (let c = 0; c < net.fused.length; c++) {
        const table = net.fused[c];
        const base = enc.categorical[c].indices[r] * units0;
        for (let u = 0; u < units0; u++) y0[u] += table[base + u];
      }
      for (let u = 0; u < units0; u++) if (y0[u] < 0) y0[u] = 0;
      let input: Float64Array = y0;
      for (let l = 1; l < net.hidden.length; l++) {
        const h = net.hidden[l];
        const y = buffers[l];
        const kernel = h.kernel;
        const units = h.units;
        for (let u = 0; u < units; u++) y[u] = h.bias ? h.bias[u] : 0;
        for (let i = 0; i < h.inputs; i++) {
          const xi = input[i];
          if (xi === 0) continue; // ReLU zeros are common
          const base = i * units;
          for (let u = 0; u < units; u++) y[u] += xi * kernel[base + u];
        }
        for (let u = 0; u < units; u++) if (y[u] < 0) y[u] = 0;
        input = y;
      }
      for (let i = 0; i < input.length; i++) for (let u = 0; u < k; u++) s[u] += input[i] * o.kernel[i * k + u];
    }
    for (let c = 0; c < net.wide.length; c++) {
      const table = net.wide[c];
      if (!table) continue;
      const base = enc.categorical[c].indices[r] * k;
      for (let u = 0; u < k; u++) s[u] += table[base + u];
    }
    if (net.activation === 'linear') out[r] = s[0];
    else if (net.activation === 'sigmoid') {
      const p = 1 / (1 + Math.exp(-s[0]));
      out[r] = net.calibration ? applyCalibration(net.calibration, p) : p;
    } else softmaxInto(s, net.calibration?.method === 'temperature' ? net.calibration.temperature : 1, out, r * k);
  }
  return out;
}

/** softmax(logits / temperature) written to out[at…at+k). */
function softmaxInto(logits: Float64Array, temperature: number, out: Float32Array, at: number): void {
  let max = -Infinity;
  for (const z of logits) if (z / temperature > max) max = z / temperature;
  let sum = 0;
  for (let u = 0; u < logits.length; u++) sum += Math.exp(logits[u] / temperature - max);
  for (let u = 0; u < logits.length; u++) out[at + u] = Math.exp(logits[u] / temperature - max) / sum;
}
