/**
 * The two training loops behind training/fit.ts's fitCandidate, one interface: an epoch at a
 * rate (its mean loss and the validation outputs after it) and snapshots of the weights (the best
 * epoch's). training/embedding-trainer.ts is the default; tfjs's layers `fit` trains what it
 * does not support (dropout) and is what bench:train compares it with.
 */
import type * as tfjs from '@tensorflow/tfjs';
import { predict, setLearningRate, toInputs } from '../core/model/network.ts';
import type { EmbeddingTrainer } from './embedding-trainer.ts';
import type { FitData, FitOptions } from './fit.ts';
import { permutation } from './permutation.ts';

type TF = typeof tfjs;

/** One pass over the rows in a seeded order; returns the epoch's mean loss. */
export async function fitOneEpoch(
  tf: TF,
  model: tfjs.LayersModel,
  inputs: tfjs.Tensor[],
  y: tfjs.Tensor,
  random: () => number,
  opts: Pick<FitOptions, 'batchSize' | 'classWeight'>,
): Promise<number> {
  const order = tf.tensor1d(permutation(y.shape[0], random), 'int32');
  const xs = inputs.map((t) => tf.gather(t, order));
  const ys = tf.gather(y, order);
  order.dispose();
  try {
    const h = await model.fit(xs, ys, {
      epochs: 1,
      batchSize: opts.batchSize,
      shuffle: false,
      verbose: 0,
      classWeight: opts.classWeight,
    });
    return Number(h.history.loss[0]);
  } finally {
    xs.forEach((t) => t.dispose());
    ys.dispose();
  }
}

export interface Snapshot {
  restore(): void;
  dispose(): void;
}
/** One training loop behind fitCandidate: an epoch at a rate (loss and validation outputs), and weight snapshots. */
export interface EpochRunner {
  run(rate: number): Promise<{ loss: number; predictions: Float32Array }>;
  snapshot(): Snapshot;
  dispose(): void;
}

export function trainerEpochs(
  trainer: EmbeddingTrainer,
  data: FitData,
  y: Float32Array,
  opts: FitOptions,
  random: () => number,
): EpochRunner {
  return {
    run: (rate) => {
      trainer.rate = rate;
      const loss = trainer.epoch(data.train.enc, y, {
        batchSize: opts.batchSize,
        classWeight: opts.classWeight,
        random,
      });
      return Promise.resolve({ loss, predictions: trainer.predict(data.validation.enc) });
    },
    snapshot: () => trainerSnapshot(trainer),
    dispose: () => {},
  };
}

export function trainerSnapshot(trainer: EmbeddingTrainer): Snapshot {
  const saved = trainer.snapshot();
  return { restore: () => trainer.restore(saved), dispose: () => {} };
}

export function layersSnapshot(model: tfjs.LayersModel): Snapshot {
  const saved = model.getWeights().map((w) => w.clone());
  return { restore: () => model.setWeights(saved), dispose: () => saved.forEach((w) => w.dispose()) };
}

/** Labels as the layers model's loss takes them: a column of values, or one-hot rows for k classes. */
export function labelTensor(tf: TF, y: Float32Array, k: number): tfjs.Tensor {
  return k > 1
    ? tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(y), 'int32'), k).toFloat())
    : tf.tensor2d(y, [y.length, 1]);
}

export function layersEpochs(
  tf: TF,
  model: tfjs.LayersModel,
  data: FitData,
  y: Float32Array,
  opts: FitOptions,
  random: () => number,
): EpochRunner {
  const k = opts.classes ?? 1;
  const inputs = toInputs(tf, data.train.enc);
  const labels = labelTensor(tf, y, k);
  return {
    run: async (rate) => {
      setLearningRate(model, rate);
      const loss = await fitOneEpoch(tf, model, inputs, labels, random, opts);
      return { loss, predictions: predict(tf, model, data.validation.enc) };
    },
    snapshot: () => layersSnapshot(model),
    dispose: () => {
      inputs.forEach((t) => t.dispose());
      labels.dispose();
    },
  };
}
