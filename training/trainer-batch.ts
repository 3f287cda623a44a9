/**
 * The plain-JavaScript parts of a training step of training/embedding-trainer.ts: gathering a
 * batch, building the first layer's input from the embedding tables, the output layer with the
 * wide part (forward and backward), and scattering gradients back to table rows. Activations are
 * feature-major ([features × batch]), the layout the wasm backend multiplies fastest
 * (docs/training-speed.md).
 */
import type { EncodedFeatures } from '../core/model/features.ts';
import type { AdamSlot, SparseRows } from './lazy-adam.ts';

export interface DenseLayer {
  /** [inputs × units], row-major, as tfjs stores a Dense kernel. */
  kernel: AdamSlot;
  bias: AdamSlot;
  inputs: number;
  units: number;
}

export interface CategoricalSlot {
  /** Deep part: the embedding table, and where its columns start in the first layer's input. */
  emb?: SparseRows;
  offset: number;
  /** Wide part: one weight per category, feeding the output layer. */
  wide?: SparseRows;
}

/** The rows of one batch: their numeric values (row-major) and each categorical input's indices. */
export interface Batch {
  size: number;
  numeric: Float32Array;
  indices: Int32Array[];
}

export function gatherBatch(enc: EncodedFeatures, rows: Int32Array): Batch {
  const nw = enc.numericNames.length;
  const b = rows.length;
  const numeric = new Float32Array(b * nw);
  for (let r = 0; r < b; r++) for (let j = 0; j < nw; j++) numeric[r * nw + j] = enc.numeric[rows[r] * nw + j];
  const indices = enc.categorical.map((c) => {
    const idx = new Int32Array(b);
    for (let r = 0; r < b; r++) idx[r] = c.indices[rows[r]];
    return idx;
  });
  return { size: b, numeric, indices };
}

/**
 * The first layer's input — numeric columns, then each embedding row, then a constant 1 that
 * carries the bias — feature-major [(width + 1) × b], and row-major [b × (width + 1)] when
 * `rowMajor` (the first layer's weight gradient is Gᵀ·X).
 */
export function firstLayerInput(
  batch: Batch,
  cats: readonly CategoricalSlot[],
  width: number,
  rowMajor: boolean,
): { xt: Float32Array; x?: Float32Array } {
  const b = batch.size;
  const nw = batch.numeric.length / Math.max(1, b);
  const w1 = width + 1;
  const xt = new Float32Array(w1 * b);
  for (let j = 0; j < nw; j++) for (let r = 0; r < b; r++) xt[j * b + r] = batch.numeric[r * nw + j];
  for (let c = 0; c < cats.length; c++) {
    const emb = cats[c].emb;
    if (!emb) continue;
    const d = emb.dim;
    const table = emb.slot.w;
    const idx = batch.indices[c];
    for (let k = 0; k < d; k++) {
      const to = (cats[c].offset + k) * b;
      for (let r = 0; r < b; r++) xt[to + r] = table[idx[r] * d + k];
    }
  }
  xt.fill(1, width * b);
  if (!rowMajor) return { xt };
  // Gathered again row by row: transposing xt instead writes with a stride of the row width.
  const x = new Float32Array(w1 * b);
  for (let r = 0; r < b; r++) {
    const base = r * w1;
    for (let j = 0; j < nw; j++) x[base + j] = batch.numeric[r * nw + j];
    x[base + width] = 1;
  }
  for (let c = 0; c < cats.length; c++) {
    const emb = cats[c].emb;
    if (!emb) continue;
    const d = emb.dim;
    const table = emb.slot.w;
    const idx = batch.indices[c];
    const offset = cats[c].offset;
    for (let r = 0; r < b; r++) {
      const from = idx[r] * d;
      const to = r * w1 + offset;
      for (let k = 0; k < d; k++) x[to + k] = table[from + k];
    }
  }
  return { xt, x };
}

/** Output-layer logits [b × units] from the deep activations (feature-major [deepWidth × b]) and each row's wide weights. */
export function outputLogits(
  batch: Batch,
  cats: readonly CategoricalSlot[],
  output: DenseLayer,
  deepT: Float32Array,
): Float32Array {
  const { kernel, bias, units } = output;
  const b = batch.size;
  const dw = deepT.length / b;
  const z = new Float32Array(b * units);
  for (let u = 0; u < units; u++) {
    for (let r = 0; r < b; r++) z[r * units + u] = bias.w[u];
    for (let i = 0; i < dw; i++) {
      const k = kernel.w[i * units + u];
      for (let r = 0; r < b; r++) z[r * units + u] += deepT[i * b + r] * k;
    }
    let wi = dw;
    for (let c = 0; c < cats.length; c++) {
      const wide = cats[c].wide;
      if (!wide) continue;
      const k = kernel.w[wi++ * units + u];
      const idx = batch.indices[c];
      for (let r = 0; r < b; r++) z[r * units + u] += wide.slot.w[idx[r]] * k;
    }
  }
  return z;
}

/**
 * Gradients of the output layer and the wide part from dLoss/dlogit `dz` [b × units]. With hidden
 * layers, returns the gradient at the last one's pre-activation (through its ReLU), feature-major
 * and, when `rowMajor`, also row-major.
 */
export function outputBackward(
  batch: Batch,
  cats: readonly CategoricalSlot[],
  output: DenseLayer,
  deepT: Float32Array,
  dz: Float32Array,
  hidden: { rowMajor: boolean } | undefined,
): { gt: Float32Array; g?: Float32Array } | undefined {
  const { units } = output;
  const kw = output.kernel.w;
  const kg = output.kernel.g;
  const bg = output.bias.g;
  const b = batch.size;
  const dw = deepT.length / b;
  for (let u = 0; u < units; u++) {
    let sb = 0;
    for (let r = 0; r < b; r++) sb += dz[r * units + u];
    bg[u] += sb;
    for (let i = 0; i < dw; i++) {
      let s = 0;
      const at = i * b;
      for (let r = 0; r < b; r++) s += deepT[at + r] * dz[r * units + u];
      kg[i * units + u] += s;
    }
    let wi = dw;
    for (let c = 0; c < cats.length; c++) {
      const wide = cats[c].wide;
      if (!wide) continue;
      const k = kw[wi * units + u];
      const idx = batch.indices[c];
      const { w, g } = wide.slot;
      let s = 0;
      for (let r = 0; r < b; r++) {
        const d = dz[r * units + u];
        const row = idx[r];
        s += w[row] * d;
        g[row] += k * d;
      }
      kg[wi++ * units + u] += s;
    }
  }
  for (let c = 0; c < cats.length; c++) {
    const wide = cats[c].wide;
    if (!wide) continue;
    const idx = batch.indices[c];
    for (let r = 0; r < b; r++) wide.touch(idx[r]);
  }
  if (!hidden) return undefined;
  const gt = new Float32Array(dw * b);
  for (let i = 0; i < dw; i++) {
    const at = i * b;
    for (let u = 0; u < units; u++) {
      const k = kw[i * units + u];
      // Through the ReLU without a branch: half the activations are zero, in no predictable order.
      for (let r = 0; r < b; r++) gt[at + r] += dz[r * units + u] * k * +(deepT[at + r] > 0);
    }
  }
  if (!hidden.rowMajor) return { gt };
  const g = new Float32Array(dw * b);
  for (let r = 0; r < b; r++) for (let i = 0; i < dw; i++) g[r * dw + i] = gt[i * b + r];
  return { gt, g };
}

/** Each row's gradient at its embedding columns (feature-major dXᵀ [width × b]), added to the table rows it came from. */
export function scatterRows(batch: Batch, cats: readonly CategoricalSlot[], dxT: Float32Array): void {
  const b = batch.size;
  for (let c = 0; c < cats.length; c++) {
    const { emb, offset } = cats[c];
    if (!emb) continue;
    const d = emb.dim;
    const g = emb.slot.g;
    const idx = batch.indices[c];
    for (let k = 0; k < d; k++) {
      const from = (offset + k) * b;
      for (let r = 0; r < b; r++) g[idx[r] * d + k] += dxT[from + r];
    }
    for (let r = 0; r < b; r++) emb.touch(idx[r]);
  }
}
