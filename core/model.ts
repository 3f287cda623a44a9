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
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tfjs.Tensor;
      const idx = tfjs.cast(tfjs.reshape(x, [-1]), 'int32') as tfjs.Tensor1D;
      return tfjs.cast(tfjs.oneHot(idx, this.depth), 'float32');
    });
  }
  override getConfig(): tfjs.serialization.ConfigDict {
    return { ...super.getConfig(), depth: this.depth };
  }
}
tfjs.serialization.registerClass(OneHot);

export interface CandidateConfig {
  name: string;
  model: 'logistic' | 'mlp';
  learning_rate: number;
  hidden?: number[];
  embedding_dim?: number;
  dropout?: number;
  l2?: number;
}

export interface InputLayout {
  numericWidth: number;
  categorical: { name: string; cardinality: number }[];
}

export function layoutOf(enc: EncodedFeatures): InputLayout {
  return { numericWidth: enc.numericNames.length, categorical: enc.categorical.map((c) => ({ name: c.name, cardinality: c.cardinality })) };
}

const inputName = (feature: string) => `cat_${feature.replace(/[^A-Za-z0-9_]/g, '_')}`;

export function buildModel(tf: TF, layout: InputLayout, cfg: CandidateConfig, task: 'classification' | 'regression', seed: number): tfjs.LayersModel {
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
  for (const c of layout.categorical) {
    const input = tf.input({ shape: [1], name: inputName(c.name), dtype: 'int32' });
    inputs.push(input);
    const oneHot = new OneHot({ depth: c.cardinality, name: `onehot_${inputName(c.name)}` }).apply(input) as tfjs.SymbolicTensor;
    if (cfg.model === 'logistic') {
      parts.push(oneHot); // one weight per category in the output layer: plain logistic regression
    } else {
      // A bias-free dense layer over a one-hot vector is an embedding lookup; unlike tf.layers.embedding
      // its gradient needs only matMul, which every backend (wasm included) implements.
      const dim = Math.max(1, Math.min(cfg.embedding_dim ?? 8, c.cardinality));
      parts.push(tf.layers.dense({ units: dim, useBias: false, kernelInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: s++ }), kernelRegularizer: reg, name: `emb_${inputName(c.name)}` }).apply(oneHot) as tfjs.SymbolicTensor);
    }
  }
  let x = parts.length === 1 ? parts[0] : (tf.layers.concatenate({ name: 'features' }).apply(parts) as tfjs.SymbolicTensor);
  if (cfg.model === 'mlp') {
    for (const [i, units] of (cfg.hidden ?? [32]).entries()) {
      x = tf.layers.dense({ units, activation: 'relu', kernelInitializer: init(), kernelRegularizer: reg, name: `hidden_${i}` }).apply(x) as tfjs.SymbolicTensor;
      if (cfg.dropout) x = tf.layers.dropout({ rate: cfg.dropout, seed: s++, name: `dropout_${i}` }).apply(x) as tfjs.SymbolicTensor;
    }
  }
  const out = tf.layers.dense({ units: 1, activation: task === 'classification' ? 'sigmoid' : 'linear', kernelInitializer: init(), kernelRegularizer: reg, name: 'output' }).apply(x) as tfjs.SymbolicTensor;
  // Every layer is named: tfjs's default names count per process, so model.json would differ between runs.
  const model = tf.model({ inputs, outputs: out, name: 'model' });
  model.compile({ optimizer: tf.train.adam(cfg.learning_rate), loss: task === 'classification' ? 'binaryCrossentropy' : 'meanSquaredError' });
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

/** Predictions as a flat Float32Array, computed in chunks so memory stays bounded. */
export function predict(tf: TF, model: tfjs.LayersModel, enc: EncodedFeatures, chunk = 65536): Float32Array {
  const out = new Float32Array(enc.rows);
  for (let start = 0; start < enc.rows; start += chunk) {
    const end = Math.min(enc.rows, start + chunk);
    const rows = Int32Array.from({ length: end - start }, (_, i) => start + i);
    const values = tf.tidy(() => {
      const inputs = toInputs(tf, enc, enc.rows === end - start && start === 0 ? undefined : rows);
      const y = model.predict(inputs) as tfjs.Tensor;
      return y.dataSync() as Float32Array;
    });
    out.set(values, start);
  }
  return out;
}
