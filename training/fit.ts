/**
 * Fitting one candidate: seeded per-epoch shuffles (tfjs's own shuffle uses Math.random), class
 * weights for the imbalanced target, early stopping on the primary validation metric with the
 * best epoch's weights restored.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { EncodedFeatures } from '../core/model/features.ts';
import {
  buildModel,
  layoutOf,
  predict,
  setLearningRate,
  toInputs,
  type CandidateConfig,
} from '../core/model/network.ts';
import { comboName, gridCombos, type CandidateParams } from '../core/schemas/params.ts';
import type { Logger } from '../core/platform/log.ts';
import { seededRandom } from '../core/platform/random.ts';
import { permutation } from './permutation.ts';
import { EmbeddingTrainer, trainerSupports, type StepTiming } from './embedding-trainer.ts';
import { lossKindOf } from './batch-loss.ts';
import { fitOneEpoch, layersEpochs, trainerEpochs, type EpochRunner, type Snapshot } from './epoch-runners.ts';
import { streamedLayersEpochs, streamedTrainerEpochs, type TrainStream } from './stream-epochs.ts';
import { HIGHER_IS_BETTER, isBetter, metricValue, type PrimaryMetric } from './candidate-metrics.ts';
import { outranked, type Pruned } from './prune.ts';

type TF = typeof tfjs;

/** Re-exported from training/candidate-metrics.ts, where stages that only score (evaluate, register) import them. */
export { HIGHER_IS_BETTER, isBetter, metricValue, type PrimaryMetric };

/** Expand `grid` entries into one named candidate per combination, in a stable order. */
export function expandCandidates(list: CandidateParams[]): CandidateConfig[] {
  const out: CandidateConfig[] = [];
  for (const c of list) {
    const { grid, ...base } = c;
    for (const combo of gridCombos(grid)) {
      out.push({
        // Boosting shrinks each tree by its rate; 0.01 (a network's Adam rate) would need ten times the trees.
        learning_rate: base.model === 'gbdt' ? 0.1 : 0.01,
        ...base,
        ...combo,
        name: comboName(base.name, combo),
      });
    }
  }
  const names = out.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`two candidates are named ${dup}; give each entry of train.candidates its own name`);
  return out;
}

/**
 * The learning rate of an epoch (1-based). `cosine` anneals from the candidate's rate towards zero
 * over max_epochs (the last epoch still learns at ~4 % for 8 epochs), so the final epochs settle
 * into a minimum instead of bouncing around it at the starting rate.
 */
export function epochLearningRate(
  base: number,
  schedule: CandidateConfig['lr_schedule'],
  epoch: number,
  maxEpochs: number,
): number {
  if (schedule !== 'cosine' || maxEpochs <= 1) return base;
  return base * 0.5 * (1 + Math.cos((Math.PI * (epoch - 1)) / maxEpochs));
}

export { permutation };

type TargetScaler = FitOptions['targetScaler'];
/** Regression targets in the units the network trains on (unit variance), and predictions back in target units. */
const toModelUnits = (y: Float32Array, s: TargetScaler) => (s ? y.map((v) => (v - s.mean) / s.std) : y);
const toTargetUnits = (p: Float32Array, s: TargetScaler) => (s ? p.map((v) => v * s.std + s.mean) : p);

/**
 * After selection: the winner takes `epochs` more passes over the validation rows (the latest
 * data before test) at `learningRateFactor` × its configured rate (not × the rate a cosine
 * schedule ended at). Validation chose the candidate, the epoch and (classification) the
 * calibration before this; the data arrive in time order and the delay level moves from month to
 * month, so a model that has also seen the latest weeks serves the near future better than one
 * that stopped two weeks earlier (bench:quality, README "Model quality"). It starts from the
 * restored best-epoch weights; Adam's moment estimates are those of the last epoch trained (up to
 * `patience` epochs later), which at a tenth of the rate only shapes the step sizes. The weights
 * change in place; returns the mean loss of each pass and the refitted model's predictions for
 * those rows, in target units (the served model's prediction reference for drift).
 */
export async function refitOnRecent(
  tf: TF,
  model: tfjs.LayersModel,
  cfg: CandidateConfig,
  rows: { enc: EncodedFeatures; y: Float32Array },
  opts: Pick<FitOptions, 'batchSize' | 'classWeight' | 'targetScaler' | 'seed'> & {
    epochs: number;
    learningRateFactor: number;
  },
): Promise<{ losses: number[]; predictions: Float32Array } | undefined> {
  if (opts.epochs <= 0 || rows.y.length === 0) return undefined;
  const trainer = trainers.get(model);
  if (trainer) {
    trainer.rate = cfg.learning_rate * opts.learningRateFactor;
    const y = toModelUnits(rows.y, opts.targetScaler);
    const random = seededRandom(opts.seed + 1);
    const losses: number[] = [];
    for (let e = 0; e < opts.epochs; e++) losses.push(trainer.epoch(rows.enc, y, { ...opts, random }));
    trainer.writeTo(model);
    return { losses, predictions: toTargetUnits(trainer.predict(rows.enc), opts.targetScaler) };
  }
  setLearningRate(model, cfg.learning_rate * opts.learningRateFactor);
  const y = tf.tensor2d(toModelUnits(rows.y, opts.targetScaler), [rows.y.length, 1]);
  const inputs = toInputs(tf, rows.enc);
  const random = seededRandom(opts.seed + 1);
  try {
    const losses: number[] = [];
    for (let e = 0; e < opts.epochs; e++) losses.push(await fitOneEpoch(tf, model, inputs, y, random, opts));
    return { losses, predictions: toTargetUnits(predict(tf, model, rows.enc), opts.targetScaler) };
  } finally {
    inputs.forEach((t) => t.dispose());
    y.dispose();
  }
}

export interface FitData {
  train: { enc: EncodedFeatures; y: Float32Array };
  validation: { enc: EncodedFeatures; y: Float32Array };
  /**
   * Every row of a train split above train.max_rows (training/stream-epochs.ts): the network's
   * epochs stream it instead of `train`, which then only gives the input layout.
   */
  stream?: TrainStream;
}

export interface FitOptions {
  task: 'classification' | 'regression';
  primary: PrimaryMetric;
  seed: number;
  maxEpochs: number;
  patience: number;
  batchSize: number;
  classWeight?: Record<number, number>;
  /** Regression targets are scaled to unit variance for training; predictions are scaled back. */
  targetScaler?: { mean: number; std: number };
  /** Multi-class: the number of classes (y holds class indices, trained on as one-hot rows). */
  classes?: number;
  /**
   * `auto` (default): training/embedding-trainer.ts for every candidate it supports (all but
   * dropout), tfjs's layers `fit` otherwise; `layers`: always `fit` (bench:train compares them).
   */
  loop?: 'auto' | 'layers';
  /**
   * The best validation value another candidate has reached so far (NaN: none yet), e.g. trees
   * boosting on a worker beside this network (train.prune). After each epoch from the second, the
   * network stops when that value is better than the best it could reach at its recent pace
   * (./prune.ts): it cannot be selected, so its remaining epochs would be spent in vain.
   */
  rival?: () => number;
  /**
   * Train exactly maxEpochs epochs and keep the last weights: the validation rows only get
   * predictions, so they stay out-of-sample (a blend's out-of-fold outputs, training/select/blend-oof.ts).
   */
  keepLast?: boolean;
  log: Logger;
}

export interface FitResult {
  model: tfjs.LayersModel;
  epochs: number;
  bestEpoch: number;
  bestValue: number;
  history: { epoch: number; loss: number; value: number; seconds: number }[];
  durationS: number;
  rowsPerS: number;
  /** training/embedding-trainer.ts's time per part of its steps, when it trained the candidate. */
  stepTiming?: StepTiming;
  /** Validation predictions of the restored best model, in target units. */
  validationPredictions: Float32Array;
  /** Training rows each epoch visited (the whole split when streamed). */
  rowsTrain: number;
  /** Set when the network stopped because another candidate was already out of its reach. */
  pruned?: Pruned;
}

export async function fitCandidate(tf: TF, cfg: CandidateConfig, data: FitData, opts: FitOptions): Promise<FitResult> {
  const started = performance.now();
  const k = opts.classes ?? 1;
  const layout = layoutOf(data.train.enc);
  const model = buildModel(tf, layout, cfg, opts.task, opts.seed, k);
  const random = seededRandom(opts.seed);
  const trainer =
    opts.loop !== 'layers' && trainerSupports(cfg)
      ? new EmbeddingTrainer(tf, model, layout, cfg, lossKindOf(opts.task, k))
      : undefined;
  let epochs: EpochRunner;
  let rowsTrain = data.train.y.length;
  if (data.stream) {
    const s = {
      stream: data.stream,
      validation: data.validation.enc,
      toModelUnits: (y: Float32Array) => toModelUnits(y, opts.targetScaler),
      opts,
      random,
      onEpoch: (rows: number) => (rowsTrain = rows),
    };
    rowsTrain = data.stream.rows;
    epochs = trainer ? streamedTrainerEpochs(trainer, s) : streamedLayersEpochs(tf, model, s);
  } else {
    const yTrain = toModelUnits(data.train.y, opts.targetScaler);
    epochs = trainer
      ? trainerEpochs(trainer, data, yTrain, opts, random)
      : layersEpochs(tf, model, data, yTrain, opts, random);
  }
  const history: FitResult['history'] = [];
  let best: { epoch: number; value: number; weights: Snapshot } | undefined;
  let pruned: Pruned | undefined;
  const toTarget = (p: Float32Array) => toTargetUnits(p, opts.targetScaler);
  try {
    for (let epoch = 1; epoch <= opts.maxEpochs; epoch++) {
      const t0 = performance.now();
      const { loss, predictions } = await epochs.run(
        epochLearningRate(cfg.learning_rate, cfg.lr_schedule, epoch, opts.maxEpochs),
      );
      const value = metricValue(opts.primary, data.validation.y, toTarget(predictions), k);
      const seconds = (performance.now() - t0) / 1000;
      history.push({ epoch, loss, value, seconds });
      opts.log.info(
        `${cfg.name} epoch ${epoch}/${opts.maxEpochs}: loss ${loss.toFixed(4)}, validation ${opts.primary} ${value.toFixed(4)} (${seconds.toFixed(1)} s)`,
      );
      if (!Number.isFinite(loss)) {
        opts.log.warn(`${cfg.name}: loss is not finite at epoch ${epoch}; stopping this candidate`);
        break;
      }
      if (opts.keepLast) continue;
      if (!best || isBetter(opts.primary, value, best.value)) {
        best?.weights.dispose();
        best = { epoch, value, weights: epochs.snapshot() };
      } else if (epoch - best.epoch >= opts.patience) break;
      pruned = opts.rival && outranked(opts.primary, history, best.value, opts.maxEpochs, opts.rival());
      if (pruned) {
        opts.log.info(
          `${cfg.name}: stopped after epoch ${epoch}: another candidate already has validation ${opts.primary} ${pruned.rival.toFixed(4)}, beyond the ${pruned.reachable.toFixed(4)} this one could reach at its recent pace by epoch ${opts.maxEpochs} (train.prune)`,
        );
        break;
      }
    }
  } finally {
    epochs.dispose();
  }
  if (best) {
    best.weights.restore();
    best.weights.dispose();
  }
  if (trainer) {
    trainer.writeTo(model);
    trainers.set(model, trainer);
  }
  const validationPredictions = toTarget(
    trainer ? trainer.predict(data.validation.enc) : predict(tf, model, data.validation.enc),
  );
  const durationS = (performance.now() - started) / 1000;
  const trainSeconds = history.reduce((s, e) => s + e.seconds, 0);
  return {
    model,
    epochs: history.length,
    bestEpoch: best?.epoch ?? 0,
    bestValue: best?.value ?? NaN,
    history,
    durationS,
    rowsPerS: trainSeconds > 0 ? (rowsTrain * history.length) / trainSeconds : 0,
    validationPredictions,
    rowsTrain,
    ...(pruned ? { pruned } : {}),
    ...(trainer ? { stepTiming: { ...trainer.timing } } : {}),
  };
}

/** The trainer of each model fitCandidate trained with one, so a refit continues with its optimizer state. */
const trainers = new WeakMap<tfjs.LayersModel, EmbeddingTrainer>();
