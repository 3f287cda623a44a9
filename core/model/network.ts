/**
 * TensorFlow.js models over encoded features: one numeric input plus one integer input per
 * categorical feature. Logistic regression is the linear special case (a 1-wide embedding per
 * category is exactly a one-hot weight); the MLP learns wider embeddings and hidden layers.
 */
import * as tfjs from '@tensorflow/tfjs';
import type { EncodedFeatures } from './features.ts';

type TF = typeof tfjs;

/** int32 [batch, 1] category index → float32 [batch, depth] one-hot. Serializable, so bundles reload it. */
export class OneHot extends tfjs.layers.Layer {
  static className = 'GitopsOneHot';
  readonly depth: number;
  constructor(args: { depth: number; name?: string }) {
    super({ name: args.name, trainable: false });
    this.depth = args.depth;
  }
  override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
    return [shape[0], this.depth];
  }
  override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
    return tfjs.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const idx = tfjs.cast(tfjs.reshape<tfjs.Rank.R1>(x, [-1]), 'int32');
      return tfjs.cast(tfjs.oneHot(idx, this.depth), 'float32');
    });
  }
  override getConfig(): tfjs.serialization.ConfigDict {
    return { ...super.getConfig(), depth: this.depth };
  }
}
tfjs.serialization.registerClass(OneHot);

/**
 * int32 [batch, 1] index → float32 [batch, dim] row of a trainable table. tf.layers.embedding's
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks; this one's gradient is a
 * scatterND of the incoming rows (duplicates add up), which every backend has, and costs
 * O(batch × dim) instead of the O(batch × vocabulary × dim) of a one-hot matMul. Its one weight is
 * [vocabulary × dim], the same shape as a bias-free dense layer over a one-hot, so core/model/forward.ts
 * reads either the same way.
 */
export class GatherEmbedding extends tfjs.layers.Layer {
  static className = 'GitopsGatherEmbedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly seed: number | undefined;
  readonly init: 'zeros' | 'uniform';
  private table: tfjs.LayerVariable | null = null;
  constructor(args: { inputDim: number; outputDim: number; seed?: number; init?: 'zeros' | 'uniform'; name?: string }) {
    super({ name: args.name });
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
    this.seed = args.seed;
    this.init = args.init ?? 'zeros';
  }
  override build(): void {
    const initializer =
      this.init === 'zeros'
        ? tfjs.initializers.zeros()
        : tfjs.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: this.seed });
    this.table = this.addWeight('embeddings', [this.inputDim, this.outputDim], 'float32', initializer);
    this.built = true;
  }
  override computeOutputShape(inputShape: tfjs.Shape | tfjs.Shape[]): tfjs.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfjs.Shape;
    return [shape[0], this.outputDim];
  }
  override call(inputs: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const idx = tfjs.cast(tfjs.reshape<tfjs.Rank.R1>(x, [-1]), 'int32');
    const table = this.table!.read();
    const shape = [this.inputDim, this.outputDim];
    const gatherRows = tfjs.customGrad((t, i, save) => {
      (save as (tensors: tfjs.Tensor[]) => void)([i as tfjs.Tensor]);
      return {
        value: tfjs.gather(t as tfjs.Tensor, i as tfjs.Tensor1D),
        gradFunc: (dy, saved) => [tfjs.scatterND(tfjs.reshape(saved[0], [-1, 1]), dy, shape), tfjs.zerosLike(saved[0])],
      };
    });
    return gatherRows(table, idx);
  }
  override getConfig(): tfjs.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      init: this.init,
      ...(this.seed !== undefined ? { seed: this.seed } : {}),
    };
  }
}
tfjs.serialization.registerClass(GatherEmbedding);

/**
 * The gradient of a matMul is two matMuls with a transposed operand (dA = dY·Bᵀ, dB = Aᵀ·dY).
 * The wasm backend's matMul with a transpose flag is 4–6× slower than transposing first and
 * multiplying plainly (measured: 8192×73 by 8192×64, 110–186 ms vs 23–35 ms), and Dense layers'
 * weight gradients are exactly that case, so this re-registers tfjs's BatchMatMul gradient with
 * explicit transposes. Same values on every backend; only training speed changes.
 */
let fastMatMulGradient = false;
export function useFastMatMulGradient(tf: TF): void {
  if (fastMatMulGradient) return;
  fastMatMulGradient = true;
  const t = (x: tfjs.Tensor, flag: boolean) =>
    flag ? tf.transpose(x, [...Array(x.rank - 2).keys(), x.rank - 1, x.rank - 2]) : x;
  const mm = (x: tfjs.Tensor, y: tfjs.Tensor, tx: boolean, ty: boolean) => tf.matMul(t(x, tx), t(y, ty));
  const warn = console.warn; // tfjs logs "Overriding the gradient for 'BatchMatMul'"; that is the point
  console.warn = () => {};
  try {
    tf.registerGradient({
      kernelName: 'BatchMatMul',
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved, attrs) => {
        const [a, b] = saved;
        const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
        const g = dy as tfjs.Tensor;
        if (!transposeA && !transposeB) return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
        if (!transposeA && transposeB) return { a: () => mm(g, b, false, false), b: () => mm(g, a, true, false) };
        if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g, false, false) };
        return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
      },
    });
  } finally {
    console.warn = warn;
  }
}

export interface CandidateConfig {
  name: string;
  /** `gbdt` candidates are trained by training/gbdt/, never built here. */
  model: 'logistic' | 'mlp' | 'gbdt';
  learning_rate: number;
  hidden?: number[];
  embedding_dim?: number;
  dropout?: number;
  l2?: number;
  /** mlp: add a wide part (one learned weight per category of every categorical input and cross) to the output. */
  wide?: boolean;
  /** constant (default) or cosine annealing over max_epochs (training/fit.ts epochLearningRate). */
  lr_schedule?: 'constant' | 'cosine';
}

export interface InputLayout {
  numericWidth: number;
  categorical: { name: string; cardinality: number }[];
}

export function layoutOf(enc: EncodedFeatures): InputLayout {
  return {
    numericWidth: enc.numericNames.length,
    categorical: enc.categorical.map((c) => ({ name: c.name, cardinality: c.cardinality })),
  };
}

export const inputName = (feature: string) => `cat_${feature.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** The optimizers buildModel made (tfjs's `instanceof` on optimizers only checks for their methods, so it cannot tell). */
const adjustable = new WeakMap<object, AdjustableAdam>();

/**
 * tfjs's Adam (same arguments and defaults as `tf.train.adam`) whose rate can change between
 * steps: Adam reads `learningRate` at every step, but tfjs keeps the field protected.
 */
class AdjustableAdam extends tfjs.AdamOptimizer {
  constructor(learningRate: number) {
    super(learningRate, 0.9, 0.999);
    adjustable.set(this, this);
  }
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }
}

/**
 * The learning rate the optimizer of a model from `buildModel` applies from its next step on (the
 * rate is compiled in as the candidate's `learning_rate`; training/fit.ts sets each epoch's from
 * its schedule, and the refit's).
 */
export function setLearningRate(model: tfjs.LayersModel, rate: number): void {
  const optimizer = adjustable.get(model.optimizer);
  if (!optimizer) throw new Error('setLearningRate needs a model compiled by buildModel (core/model/network.ts)');
  optimizer.setLearningRate(rate);
}

export function buildModel(
  tf: TF,
  layout: InputLayout,
  cfg: CandidateConfig,
  task: 'classification' | 'regression',
  seed: number,
  /** Multi-class: one softmax output per class (categorical cross-entropy on one-hot labels). */
  classes = 1,
): tfjs.LayersModel {
  useFastMatMulGradient(tf);
  const inputs: tfjs.SymbolicTensor[] = [];
  const parts: tfjs.SymbolicTensor[] = [];
  let s = seed;
  const init = () => tf.initializers.glorotUniform({ seed: s++ });
  const reg = cfg.l2 ? tf.regularizers.l2({ l2: cfg.l2 }) : undefined;
  if (layout.numericWidth > 0) {
    const numeric = tf.input({ shape: [layout.numericWidth], name: 'numeric' });
    inputs.push(numeric);
    parts.push(numeric);
  }
  // Wide part: one weight per category (a 1-wide embedding), i.e. logistic regression over one-hots.
  const wide: tfjs.SymbolicTensor[] = [];
  for (const c of layout.categorical) {
    const input = tf.input({ shape: [1], name: inputName(c.name), dtype: 'int32' });
    inputs.push(input);
    if (cfg.model === 'logistic' || cfg.wide)
      wide.push(
        new GatherEmbedding({ inputDim: c.cardinality, outputDim: 1, name: `wide_${inputName(c.name)}` }).apply(
          input,
        ) as tfjs.SymbolicTensor,
      );
    if (cfg.model === 'mlp') {
      // Small random rows (seeded), as the one-hot dense layers before; wide weights start at zero.
      const dim = Math.max(1, Math.min(cfg.embedding_dim ?? 8, c.cardinality));
      parts.push(
        new GatherEmbedding({
          inputDim: c.cardinality,
          outputDim: dim,
          init: 'uniform',
          seed: s++,
          name: `emb_${inputName(c.name)}`,
        }).apply(input) as tfjs.SymbolicTensor,
      );
    }
  }
  const concat = (xs: tfjs.SymbolicTensor[], name: string) =>
    xs.length === 1 ? xs[0] : (tf.layers.concatenate({ name }).apply(xs) as tfjs.SymbolicTensor);
  let x: tfjs.SymbolicTensor;
  if (cfg.model === 'mlp') {
    x = concat(parts, 'features');
    for (const [i, units] of (cfg.hidden ?? [32]).entries()) {
      x = tf.layers
        .dense({ units, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg, name: `hidden_${i}` })
        .apply(x) as tfjs.SymbolicTensor;
      if (cfg.dropout)
        x = tf.layers.dropout({ rate: cfg.dropout, seed: s++, name: `dropout_${i}` }).apply(x) as tfjs.SymbolicTensor;
    }
    if (wide.length) x = concat([x, ...wide], 'wide_and_deep');
  } else x = concat([...parts, ...wide], 'features');
  const out = tf.layers
    .dense({
      units: classes > 1 ? classes : 1,
      activation: classes > 1 ? 'softmax' : task === 'classification' ? 'sigmoid' : 'linear',
      kernelInitializer: init(),
      kernelRegularizer: reg,
      name: 'output',
    })
    .apply(x) as tfjs.SymbolicTensor;
  // Every layer is named: tfjs's default names count per process, so model.json would differ between runs.
  const model = tf.model({ inputs, outputs: out, name: 'model' });
  model.compile({
    optimizer: new AdjustableAdam(cfg.learning_rate),
    loss:
      classes > 1 ? 'categoricalCrossentropy' : task === 'classification' ? 'binaryCrossentropy' : 'meanSquaredError',
  });
  return model;
}

/** Tensors in the model's input order, optionally gathered by row indices. */
export function toInputs(tf: TF, enc: EncodedFeatures, rows?: Int32Array): tfjs.Tensor[] {
  return tf.tidy(() => {
    const out: tfjs.Tensor[] = [];
    const width = enc.numericNames.length;
    const pick = (t: tfjs.Tensor) => (rows ? tf.gather(t, rows) : t);
    if (width > 0) out.push(pick(tf.tensor2d(enc.numeric, [enc.rows, width])));
    for (const c of enc.categorical) out.push(pick(tf.tensor2d(c.indices, [enc.rows, 1], 'int32')));
    return out;
  });
}

/** Predictions as a flat Float32Array (multi-class: row-major rows × classes), computed in chunks so memory stays bounded. */
export function predict(tf: TF, model: tfjs.LayersModel, enc: EncodedFeatures, chunk = 65536): Float32Array {
  const width = (model.outputs[0].shape.at(-1) as number | null) ?? 1;
  const out = new Float32Array(enc.rows * width);
  for (let start = 0; start < enc.rows; start += chunk) {
    const end = Math.min(enc.rows, start + chunk);
    const rows = Int32Array.from({ length: end - start }, (_, i) => start + i);
    const values = tf.tidy(() => {
      const inputs = toInputs(tf, enc, enc.rows === end - start && start === 0 ? undefined : rows);
      const y = model.predict(inputs) as tfjs.Tensor;
      return y.dataSync() as Float32Array;
    });
    out.set(values, start * width);
  }
  return out;
}
