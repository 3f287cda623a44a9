/**
 * A `model: gbdt` candidate for the train stage: inputs fitted on train (training/gbdt/inputs.ts),
 * boosting with early stopping on the validation split (training/gbdt/boost.ts), and the same
 * result shape as a network's fit (training/fit.ts), so selection, calibration, golden examples
 * and the bundle treat both alike.
 */
import type { EncodedFeatures, FeatureSpec } from '../../core/model/features.ts';
import type { Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import { binRows } from '../../core/model/tree-inputs.ts';
import { scoresToOutputs, treeModel, treeOutputs, type TreeModel } from '../../core/model/trees.ts';
import { encodeFeatures, encodeTarget } from '../../core/model/features.ts';
import { concatTables } from '../../core/data/table.ts';
import { HIGHER_IS_BETTER, metricValue, type PrimaryMetric } from '../fit.ts';
import { boost, rawRocAuc, type BoostParams, type Objective, type StoppingRule } from './boost.ts';
import { fitInputs, type InputOptions } from './inputs.ts';
import { effectiveMinSamplesLeaf } from './defaults.ts';

/** The candidate keys of `model: gbdt` (core/schemas/params.ts checks them), with their defaults. */
export interface GbdtConfig {
  name: string;
  learning_rate: number;
  max_iter?: number;
  max_leaf_nodes?: number;
  max_depth?: number;
  min_samples_leaf?: number;
  l2_regularization?: number;
  max_bins?: number;
  patience?: number;
  max_cat_threshold?: number;
  min_category_count?: number;
  cat_smooth?: number;
  native_max_categories?: number;
  high_cardinality?: 'target_statistics' | 'drop' | 'top_categories';
  target_smoothing?: number;
  target_folds?: number;
  /**
   * Not a params key: min_samples_leaf as given, not capped by the row count (the reference
   * recipe of a small table, training/select/tree-recipe.ts).
   */
  min_samples_leaf_uncapped?: boolean;
}

export const GBDT_DEFAULTS = {
  max_iter: 1000,
  max_leaf_nodes: 63,
  max_depth: 0,
  min_samples_leaf: 100,
  l2_regularization: 1,
  max_bins: 255,
  patience: 20,
  max_cat_threshold: 32,
  min_category_count: 10,
  cat_smooth: 10,
  native_max_categories: 255,
  high_cardinality: 'drop',
  target_smoothing: 20,
  target_folds: 5,
} as const;

/** fitInputs' options from a candidate's settings (defaults filled in). */
export function inputOptions(
  c: {
    max_bins: number;
    native_max_categories: number;
    high_cardinality: InputOptions['highCardinality'];
    target_smoothing: number;
    target_folds: number;
  },
  seed: number,
  classes: number,
): InputOptions {
  return {
    maxBins: c.max_bins,
    nativeMaxCategories: c.native_max_categories,
    highCardinality: c.high_cardinality,
    targetSmoothing: c.target_smoothing,
    targetFolds: c.target_folds,
    seed,
    classes,
  };
}

export { effectiveMinSamplesLeaf } from './defaults.ts';

export interface GbdtRows {
  enc: EncodedFeatures;
  table: Table;
  y: Float32Array;
}

export interface GbdtFit {
  model: TreeModel;
  epochs: number;
  bestEpoch: number;
  bestValue: number;
  durationS: number;
  rowsPerS: number;
  validationPredictions: Float32Array;
  /** Seconds in the boosting loop (the rest: fitting the inputs, binning the validation rows). */
  boostS: number;
  /** Threads of the passes over rows (training/gbdt/engine.ts), and how many passes they shared. */
  threads: number;
  parallel: { parallel: number; backedOff: number; startupMs: number };
}

/** A candidate's boosting settings (defaults filled in) for a fit on `rows` training rows. */
export function boostParams(cfg: GbdtConfig, rows: number): BoostParams {
  const c = { ...GBDT_DEFAULTS, ...cfg };
  return {
    maxIter: c.max_iter,
    patience: c.patience,
    maxLeaves: c.max_leaf_nodes,
    maxDepth: c.max_depth,
    learningRate: cfg.learning_rate,
    l2: c.l2_regularization,
    minSamplesLeaf: cfg.min_samples_leaf_uncapped
      ? c.min_samples_leaf
      : effectiveMinSamplesLeaf(c.min_samples_leaf, rows),
    minHessian: 1e-3,
    maxCatThreshold: c.max_cat_threshold,
    minCategoryCount: c.min_category_count,
    catSmooth: c.cat_smooth,
  };
}

/**
 * What early stopping watches: the primary metric, as a network's epochs do. With a time split
 * the validation period's base rate differs from train's, and the loss turns up (the base rate is
 * off) long before the ranking stops improving; calibration fixes the rate later.
 */
export function stoppingRule(
  primary: PrimaryMetric,
  objective: Objective,
  k: number,
  y: Float32Array,
  unscale: (p: Float32Array) => Float32Array,
): StoppingRule {
  return {
    value: (raw, sorter) => {
      if (primary === 'roc_auc' && objective === 'binary') return -rawRocAuc(raw, y, sorter);
      const v = metricValue(primary, y, unscale(scoresToOutputs(objective, raw, k, null)), k);
      return HIGHER_IS_BETTER[primary] ? -v : v;
    },
    // The metric sorts the validation rows: on large validation sets it is taken every few iterations.
    every: Math.max(1, Math.ceil(y.length / 100_000)),
  };
}

export function fitGbdt(
  cfg: GbdtConfig,
  spec: FeatureSpec,
  data: { train: GbdtRows; validation: GbdtRows },
  o: {
    task: 'classification' | 'regression';
    primary: PrimaryMetric;
    seed: number;
    classWeight?: Record<number, number>;
    targetScaler?: { mean: number; std: number };
    classes?: number;
    /**
     * Told each new best iteration while boosting and its validation value of the primary metric
     * (training/select/refit-off-thread.ts, training/prune.ts).
     */
    onBest?: (iteration: number, value: number) => void;
    log: Logger;
  },
): GbdtFit {
  const started = performance.now();
  const c = { ...GBDT_DEFAULTS, ...cfg };
  const k = o.classes && o.classes > 1 ? o.classes : 1;
  const objective: Objective = o.task === 'regression' ? 'regression' : k > 1 ? 'multiclass' : 'binary';
  const s = o.targetScaler;
  const scaled = (y: Float32Array) => (s ? y.map((v) => (v - s.mean) / s.std) : y);
  const unscale = (p: Float32Array) => (s ? p.map((v) => v * s.std + s.mean) : p);
  const yTrain = scaled(data.train.y);
  const fitted = fitInputs(spec, data.train.enc, data.train.table, yTrain, inputOptions(c, o.seed, k));
  if (fitted.left_out.length) o.log.info(`${cfg.name}: left out ${fitted.left_out.join(', ')}`);
  const validationBins = binRows(fitted.inputs, data.validation.enc, data.validation.table, spec);
  const weight = o.classWeight ? Float32Array.from(data.train.y, (v) => o.classWeight![v] ?? 1) : undefined;
  const onBest = o.onBest;
  // The stopping rule watches the primary metric negated when higher is better (stoppingRule).
  const up = HIGHER_IS_BETTER[o.primary];
  const p = {
    ...boostParams(cfg, yTrain.length),
    onBest: onBest && ((it: number, watched: number) => onBest(it, up ? -watched : watched)),
  };
  o.log.info(
    `${cfg.name}: ${fitted.inputs.length} inputs (${fitted.inputs.map((i) => `${i.name}:${i.from === 'target_stat' ? 'target' : i.kind}`).join(', ')}), min_samples_leaf ${p.minSamplesLeaf}`,
  );
  const boostStart = performance.now();
  const result = boost(
    objective,
    k,
    fitted.inputs,
    fitted.binCounts,
    { bins: fitted.bins, y: yTrain, weight },
    { bins: validationBins, y: scaled(data.validation.y) },
    p,
    (it, trainLoss, validationLoss) => {
      if (it % 50 === 0)
        o.log.info(
          `${cfg.name} iteration ${it}: train loss ${trainLoss.toFixed(5)}, validation loss ${validationLoss.toFixed(5)}`,
        );
    },
    stoppingRule(o.primary, objective, k, data.validation.y, unscale),
  );
  const boostS = (performance.now() - boostStart) / 1000;
  const model = treeModel(result.model);
  // The same numbers serving computes (core/model/trees.ts evaluated them during boosting).
  const validationPredictions = unscale(scoresToOutputs(objective, result.validationScores, k, null));
  const bestValue = metricValue(o.primary, data.validation.y, validationPredictions, k);
  const durationS = (performance.now() - started) / 1000;
  o.log.info(
    `${cfg.name}: ${result.iterations} iterations, kept ${result.bestIteration} (best validation ${o.primary}), ${result.model.trees.length} trees; boosting ${boostS.toFixed(1)} s on ${result.threads} thread(s)`,
  );
  return {
    model,
    epochs: result.iterations,
    bestEpoch: result.bestIteration,
    bestValue,
    durationS,
    rowsPerS: durationS > 0 ? (yTrain.length * result.iterations) / durationS : 0,
    validationPredictions,
    boostS,
    threads: result.threads,
    parallel: result.parallel,
  };
}

/**
 * train.recent_refit for a tree winner: boosting again on train + validation (the latest rows
 * before test) with the iteration count validation chose, as the references of bench:quality fit
 * both. Its validation metrics, calibration and residual quantiles were taken before, on the
 * model that had not seen those rows; returns the refitted model and its outputs for the
 * validation rows (uncalibrated).
 *
 * The count may be pending (a speculative refit, started beside the first fit): boosting is
 * sequential and its trees do not depend on when it stops, so this boosts until the count is
 * known and reached (or max_iter, then waits for it) and keeps that many iterations' trees —
 * the same trees as a refit told the count up front.
 */
export function refitTreesOnAll(
  cfg: GbdtConfig,
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  iterations: number | PendingIterations,
  o: {
    seed: number;
    task?: 'classification' | 'regression';
    classes?: number;
    classWeight?: Record<number, number>;
    targetScaler?: { mean: number; std: number };
    /** With a pending count: boost on one thread until the count is known, then on the engine's threads. */
    shareAfterCount?: boolean;
    log: Logger;
  },
): { model: TreeModel; predictions: Float32Array; rows: number; seconds: number; iterations: number } {
  const started = performance.now();
  const pending = typeof iterations === 'number' ? undefined : iterations;
  const all = concatTables([tables.train, tables.validation]);
  const enc = encodeFeatures(spec, all);
  const y = encodeTarget(spec.target, all.columns[spec.target.column]);
  const s = o.targetScaler;
  const yScaled = s ? y.map((v) => (v - s.mean) / s.std) : y;
  const c = { ...GBDT_DEFAULTS, ...cfg };
  const k = o.classes && o.classes > 1 ? o.classes : 1;
  const objective: Objective =
    (o.task ?? 'regression') === 'regression' ? 'regression' : k > 1 ? 'multiclass' : 'binary';
  const weight = o.classWeight ? Float32Array.from(y, (v) => o.classWeight![v] ?? 1) : undefined;
  const fitted = fitInputs(spec, enc, all, yScaled, inputOptions(c, o.seed, k));
  const result = boost(
    objective,
    k,
    fitted.inputs,
    fitted.binCounts,
    { bins: fitted.bins, y: yScaled, weight },
    { bins: new Uint8Array(0), y: new Float32Array(0) },
    {
      ...boostParams(cfg, all.length),
      maxIter: pending ? c.max_iter : count(iterations as number),
      patience: pending ? c.max_iter : count(iterations as number),
      stopAfter: pending
        ? (it) => {
            const known = pending.after(it);
            return known > 0 && it >= count(known);
          }
        : undefined,
      shareWhen: pending && o.shareAfterCount ? () => pending.known() : undefined,
    },
  );
  // A single-leaf tree stops boosting early either way, so fewer iterations than asked are the same trees too.
  const kept = Math.min(result.iterations, count(pending ? pending.wait() : (iterations as number)));
  const model = treeModel({ ...result.model, trees: result.model.trees.slice(0, kept * k) });
  const raw = treeOutputs(model, spec, tables.validation, null);
  const predictions = s ? raw.map((v) => v * s.std + s.mean) : raw;
  const seconds = (performance.now() - started) / 1000;
  o.log.info(
    `${cfg.name}: refitted on ${all.length} train + validation rows, ${kept} iterations (${seconds.toFixed(1)} s${pending ? `, started beside the first fit, ${result.iterations} boosted` : ''})`,
  );
  return { model, predictions, rows: all.length, seconds, iterations: kept };
}

/** An iteration count not known when boosting starts. */
export interface PendingIterations {
  /**
   * Asked after each iteration: the count once known, else 0. May block (a worker thread's
   * Atomics.wait) until another iteration is sure to be needed.
   */
  after(iteration: number): number;
  /** Blocks until the count is known. */
  wait(): number;
  /** Whether the count is known (does not block). */
  known(): boolean;
}

const count = (n: number) => Math.max(1, n);
