/**
 * Inference without TensorFlow.js: the models core/model.ts builds (one-hot/embedding inputs,
 * dense ReLU layers, one sigmoid or linear output) evaluated in plain JavaScript from their
 * weights. A tfjs call costs ~100 µs of bookkeeping however small the batch; this costs a few µs
 * per row, and gives the same numbers on every backend (tfjs-node, wasm, cpu), so a bundle's
 * golden outputs hold wherever it is served. Training still fits with tfjs.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { EncodedFeatures } from './features.ts';

interface Dense {
  kernel: Float64Array; // [inputs × units], row-major
  bias: Float64Array | null;
  inputs: number;
  units: number;
}

export interface ForwardNet {
  kind: 'logistic' | 'mlp';
  numericWidth: number;
  /** Per categorical input, in model input order: embedding table (mlp) or its slice offset (logistic). */
  categorical: { name: string; cardinality: number; embedding: Dense | null; offset: number }[];
  hidden: Dense[];
  output: Dense;
  activation: 'sigmoid' | 'linear';
  /**
   * MLP only: embedding × first-layer weights, pre-multiplied per category
   * ([cardinality × units of hidden_0]), so a row's first layer is a few vector additions.
   */
  fused: Float64Array[];
}

function dense(layer: tfjs.layers.Layer): Dense {
  const [k, b] = layer.getWeights();
  const [inputs, units] = k.shape as [number, number];
  return { kernel: Float64Array.from(k.dataSync()), bias: b ? Float64Array.from(b.dataSync()) : null, inputs, units };
}

/** Read the weights of a model built by core/model.ts (layer names are its contract). */
export function compileForward(model: tfjs.LayersModel, categorical: { name: string; cardinality: number }[], numericWidth: number): ForwardNet {
  const names = new Set(model.layers.map((l) => l.name));
  const kind = names.has('hidden_0') ? 'mlp' : 'logistic';
  let offset = numericWidth;
  const cats = categorical.map((c) => {
    const embName = `emb_cat_${c.name.replace(/[^A-Za-z0-9_]/g, '_')}`;
    const embedding = kind === 'mlp' ? dense(model.getLayer(embName)) : null;
    const entry = { name: c.name, cardinality: c.cardinality, embedding, offset };
    offset += kind === 'mlp' ? embedding!.units : c.cardinality;
    return entry;
  });
  const hidden: Dense[] = [];
  for (let i = 0; names.has(`hidden_${i}`); i++) hidden.push(dense(model.getLayer(`hidden_${i}`)));
  const outputLayer = model.getLayer('output');
  const activation = (outputLayer.getConfig().activation as string) === 'sigmoid' ? 'sigmoid' : 'linear';
  const net: ForwardNet = { kind, numericWidth, categorical: cats, hidden, output: dense(outputLayer), activation, fused: [] };
  const first = hidden[0] ?? net.output;
  if (first.inputs !== offset) throw new Error(`model layout mismatch: first dense layer takes ${first.inputs} inputs, features give ${offset}`);
  if (kind === 'mlp') {
    const w0 = first.kernel;
    const units = first.units;
    net.fused = cats.map(({ embedding: e, offset: off, cardinality }) => {
      const table = new Float64Array(cardinality * units);
      for (let k = 0; k < cardinality; k++) {
        for (let d = 0; d < e!.units; d++) {
          const v = e!.kernel[k * e!.units + d];
          const base = (off + d) * units;
          for (let u = 0; u < units; u++) table[k * units + u] += v * w0[base + u];
        }
      }
      return table;
    });
  }
  return net;
}

/** Outputs for every encoded row (before any target scaling), rounded to float32 like tfjs. */
export function forward(net: ForwardNet, enc: EncodedFeatures): Float32Array {
  const n = enc.rows;
  const out = new Float32Array(n);
  const width = net.numericWidth;
  const buffers = net.hidden.map((h) => new Float64Array(h.units));
  for (let r = 0; r < n; r++) {
    let value: number;
    if (net.kind === 'logistic') {
      const w = net.output.kernel; // [inputs × 1]: a one-hot input selects one weight
      let s = net.output.bias ? net.output.bias[0] : 0;
      for (let j = 0; j < width; j++) s += enc.numeric[r * width + j] * w[j];
      for (let c = 0; c < net.categorical.length; c++) s += w[net.categorical[c].offset + enc.categorical[c].indices[r]];
      value = s;
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
      const o = net.output;
      let s = o.bias ? o.bias[0] : 0;
      for (let i = 0; i < o.inputs; i++) s += input[i] * o.kernel[i];
      value = s;
    }
    out[r] = net.activation === 'sigmoid' ? 1 / (1 + Math.exp(-value)) : value;
  }
  return out;
}
