/**
 * A training loop for the networks core/model/network.ts builds, shaped to what the wasm backend
 * does fast (docs/training-speed.md). tfjs's layers `fit` spent a 4,096-row step on ~600 kernel
 * calls (concatenating nine inputs, splitting gradients back, one gather per table, transposing
 * for every matMul gradient) and on dense Adam over whole embedding tables. Here the embedding and
 * wide-part lookups, the output layer, the loss and every optimizer update are plain JavaScript
 * over Float32Arrays (training/trainer-batch.ts, training/lazy-adam.ts), and only the hidden
 * layers' matrix products go to tfjs, feature-major so that no product needs a transpose.
 *
 * The weights start as buildModel initialised them and are written back into the same layers
 * (`writeTo`), so the bundle, core/model/forward.ts and every consumer see the usual model.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { EncodedFeatures } from '../core/model/features.ts';
import { inputName, type CandidateConfig, type InputLayout } from '../core/model/network.ts';
import { adamSlot, adamStep, adamUpdateRange, SparseRows, type AdamSlot } from './lazy-adam.ts';
import { activateInPlace, lossGradientInPlace, type LossKind } from './batch-loss.ts';
import { permutation } from './permutation.ts';
import { hiddenBackward, hiddenForward } from './trainer-hidden.ts';
import {
  firstLayerInput,
  gatherBatch,
  outputBackward,
  outputLogits,
  scatterRows,
  type CategoricalSlot,
  type DenseLayer,
} from './trainer-batch.ts';

type TF = typeof tfjs;

const weightOf = (model: tfjs.LayersModel, name: string, i = 0) =>
  Float32Array.from(model.getLayer(name).getWeights()[i].dataSync());

/** Whether this loop can train the candidate (dropout is left to tfjs's `fit`). */
export function trainerSupports(cfg: CandidateConfig): boolean {
  return !cfg.dropout;
}

/** Milliseconds per part of `step`, summed over steps (bench:train prints them per step). */
export interface StepTiming {
  steps: number;
  /** Gathering the batch's rows and embedding rows into the first layer's input. */
  batch: number;
  /** The hidden layers (tfjs). */
  forward: number;
  /** Output layer, loss and wide part, forward and backward. */
  output: number;
  /** Back through the hidden layers (tfjs). */
  backward: number;
  /** Embedding gradients to the table rows they came from. */
  scatter: number;
  /** Adam: dense layers whole, tables lazily. */
  optimizer: number;
}

export class EmbeddingTrainer {
  private readonly cats: CategoricalSlot[];
  /** Width of the first layer's input: numeric columns, then each embedding. */
  private readonly width0: number;
  private readonly hidden: DenseLayer[];
  private readonly output: DenseLayer;
  private readonly l2: number;
  private readonly categoricalNames: string[];
  private steps = 0;
  rate: number;
  readonly timing: StepTiming = { steps: 0, batch: 0, forward: 0, output: 0, backward: 0, scatter: 0, optimizer: 0 };

  constructor(
    private readonly tf: TF,
    model: tfjs.LayersModel,
    layout: InputLayout,
    cfg: CandidateConfig,
    private readonly loss: LossKind,
  ) {
    if (!trainerSupports(cfg)) throw new Error(`${cfg.name}: dropout needs tfjs's fit (training/fit.ts)`);
    this.rate = cfg.learning_rate;
    this.l2 = cfg.l2 ?? 0;
    this.categoricalNames = layout.categorical.map((c) => c.name);
    const mlp = cfg.model === 'mlp';
    let offset = layout.numericWidth;
    let wideCount = 0;
    this.cats = layout.categorical.map((c) => {
      const slot: CategoricalSlot = { offset };
      if (mlp) {
        const table = weightOf(model, `emb_${inputName(c.name)}`);
        slot.emb = new SparseRows(table, table.length / c.cardinality);
        offset += slot.emb.dim;
      }
      if (!mlp || cfg.wide) {
        slot.wide = new SparseRows(weightOf(model, `wide_${inputName(c.name)}`), 1);
        wideCount++;
      }
      return slot;
    });
    this.width0 = offset;
    const dense = (name: string): DenseLayer => {
      const kernel = weightOf(model, name, 0);
      const bias = weightOf(model, name, 1);
      return {
        kernel: adamSlot(kernel),
        bias: adamSlot(bias),
        inputs: kernel.length / bias.length,
        units: bias.length,
      };
    };
    this.hidden = mlp ? (cfg.hidden ?? [32]).map((_, i) => dense(`hidden_${i}`)) : [];
    this.output = dense('output');
    const deepWidth = this.hidden.at(-1)?.units ?? this.width0;
    if (this.output.inputs !== deepWidth + wideCount)
      throw new Error(
        `${cfg.name}: the output layer takes ${this.output.inputs} inputs, the layout gives ${deepWidth + wideCount}`,
      );
  }

  /** Outputs of the current weights (probabilities, class probabilities row-major, or values). */
  predict(enc: EncodedFeatures, chunk = 16384): Float32Array {
    const units = this.output.units;
    const out = new Float32Array(enc.rows * units);
    for (let start = 0; start < enc.rows; start += chunk) {
      const rows = Int32Array.from({ length: Math.min(chunk, enc.rows - start) }, (_, i) => start + i);
      const batch = gatherBatch(enc, rows);
      const { xt } = firstLayerInput(batch, this.cats, this.width0, false);
      const z = outputLogits(batch, this.cats, this.output, hiddenForward(this.tf, this.hidden, xt, batch.size));
      activateInPlace(this.loss, z, units);
      out.set(z, start * units);
    }
    return out;
  }

  /** One pass over all rows in a seeded order, in batches; returns the mean loss per row. */
  epoch(
    enc: EncodedFeatures,
    y: Float32Array,
    o: { batchSize: number; random: () => number; classWeight?: Record<number, number> },
  ): number {
    const order = permutation(y.length, o.random);
    const cw = o.classWeight;
    const weight = cw ? (label: number) => cw[label] ?? 1 : undefined;
    let total = 0;
    for (let start = 0; start < order.length; start += o.batchSize) {
      const rows = order.subarray(start, Math.min(order.length, start + o.batchSize));
      total += this.step(enc, y, rows, weight) * rows.length;
    }
    return total / Math.max(1, order.length);
  }

  /** One optimizer step on `rows`; returns the batch's mean loss. */
  step(enc: EncodedFeatures, y: Float32Array, rows: Int32Array, sampleWeight?: (label: number) => number): number {
    const loss = this.accumulate(enc, y, rows, sampleWeight);
    const t0 = performance.now();
    this.apply();
    this.timing.optimizer += performance.now() - t0;
    this.timing.steps++;
    return loss;
  }

  /**
   * The gradients of one batch by layer name, without a step (tests compare them with tfjs's
   * autodiff of the same model); returns the batch's mean loss beside them.
   */
  gradients(
    enc: EncodedFeatures,
    y: Float32Array,
    rows: Int32Array,
    sampleWeight?: (label: number) => number,
  ): { loss: number; byLayer: Record<string, Float32Array[]> } {
    const loss = this.accumulate(enc, y, rows, sampleWeight);
    const byLayer: Record<string, Float32Array[]> = {};
    this.layerNames.forEach(({ name, slots }) => {
      byLayer[name] = slots().map((s) => {
        const g = s.g.slice();
        s.g.fill(0);
        return g;
      });
    });
    for (const c of this.cats) {
      c.emb?.forget();
      c.wide?.forget();
    }
    return { loss, byLayer };
  }

  /** Adds one batch's gradients (loss, and the L2 penalty on kernels) into the slots; returns the batch's mean loss. */
  private accumulate(
    enc: EncodedFeatures,
    y: Float32Array,
    rows: Int32Array,
    sampleWeight?: (label: number) => number,
  ): number {
    const t = this.timing;
    let t0 = performance.now();
    const lap = (part: Exclude<keyof StepTiming, 'steps'>) => {
      const now = performance.now();
      t[part] += now - t0;
      t0 = now;
    };
    const layers = this.hidden.length;
    const batch = gatherBatch(enc, rows);
    const { xt, x } = firstLayerInput(batch, this.cats, this.width0, layers > 0);
    lap('batch');
    const kept: tfjs.Tensor[] = [];
    const deepT = hiddenForward(this.tf, this.hidden, xt, batch.size, kept);
    lap('forward');
    const labels = new Float32Array(batch.size);
    for (let r = 0; r < batch.size; r++) labels[r] = y[rows[r]];
    const z = outputLogits(batch, this.cats, this.output, deepT);
    const loss = lossGradientInPlace(this.loss, z, this.output.units, labels, sampleWeight); // z is now dLoss/dlogit
    const grad = outputBackward(batch, this.cats, this.output, deepT, z, layers ? { rowMajor: layers > 1 } : undefined);
    lap('output');
    if (grad) {
      const dxT = hiddenBackward(this.tf, this.hidden, {
        b: batch.size,
        x: x!,
        last: grad,
        inputs: kept,
        dx: this.cats.some((c) => c.emb),
      });
      lap('backward');
      if (dxT) scatterRows(batch, this.cats, dxT);
      lap('scatter');
    }
    for (const k of kept) k.dispose();
    if (this.l2)
      for (const layer of [...this.hidden, this.output]) {
        const { w, g } = layer.kernel;
        for (let i = 0; i < w.length; i++) g[i] += 2 * this.l2 * w[i];
      }
    return loss;
  }

  /** Adam on the dense layers, and lazily on the table rows the batch touched. */
  private apply(): void {
    const s = adamStep(this.rate, ++this.steps);
    for (const layer of [...this.hidden, this.output]) {
      adamUpdateRange(layer.kernel, s);
      adamUpdateRange(layer.bias, s);
    }
    for (const c of this.cats) {
      c.emb?.update(s);
      c.wide?.update(s);
    }
  }

  /** Every trainable layer by its name in the model, with its weight slots in tfjs's order. */
  private get layerNames(): { name: string; slots: () => AdamSlot[] }[] {
    const out: { name: string; slots: () => AdamSlot[] }[] = [];
    this.cats.forEach((c, i) => {
      const feature = inputName(this.categoricalNames[i]);
      if (c.emb) out.push({ name: `emb_${feature}`, slots: () => [c.emb!.slot] });
      if (c.wide) out.push({ name: `wide_${feature}`, slots: () => [c.wide!.slot] });
    });
    this.hidden.forEach((l, i) => out.push({ name: `hidden_${i}`, slots: () => [l.kernel, l.bias] }));
    out.push({ name: 'output', slots: () => [this.output.kernel, this.output.bias] });
    return out;
  }
  private weights(): Float32Array[] {
    return this.layerNames.flatMap((l) => l.slots().map((s) => s.w));
  }
  /** A copy of the weights (the best epoch's, kept while training goes on). */
  snapshot(): Float32Array[] {
    return this.weights().map((w) => w.slice());
  }
  restore(snapshot: Float32Array[]): void {
    this.weights().forEach((w, i) => w.set(snapshot[i]));
  }

  /** Write the weights into the layers they were read from (same names and shapes). */
  writeTo(model: tfjs.LayersModel): void {
    const tf = this.tf;
    for (const { name, slots } of this.layerNames) {
      const layer = model.getLayer(name);
      const arrays = slots().map((s) => s.w);
      const tensors = layer.getWeights().map((t, i) => tf.tensor(arrays[i], t.shape));
      layer.setWeights(tensors);
      tf.dispose(tensors);
    }
  }
}
