/**
 * The boosting loop: each iteration fits one tree per class (one for binary and regression) to
 * the gradients of the loss at the current scores — log loss (sigmoid), multi-class log loss
 * (softmax; gradient p − 1[y=c], hessian p(1−p)) or squared error — and stops when the loss on
 * the validation rows has not improved for `patience` iterations; the ensemble keeps the trees
 * up to its best iteration. Validation scores are computed by core/model/trees.ts, the function
 * serving uses.
 */
import { compileTree, type TreeEnsembleJson, type TreeJson } from '../../core/model/trees.ts';
import type { TreeInput } from '../../core/model/tree-inputs.ts';
import { growTree, slotsFor, type TreeParams } from './grow.ts';
import { histLayout, rootCounts } from './split.ts';
import { sortF64 } from './sort-f64.ts';
import { Engine, gbdtThreads } from './engine.ts';
import type { Objective } from './gradients.ts';

export type { Objective };
const LOG_EVERY = 50;

export interface BoostParams extends TreeParams {
  maxIter: number;
  patience: number;
  /** Threads for the passes over rows (./engine.ts); absent: gbdtThreads (GBDT_THREADS or the machine's). The trees are the same for any count. */
  threads?: number;
  /** Wait for the worker threads before the first tree (tests); otherwise passes run here until they have started. */
  waitForWorkers?: boolean;
  /**
   * Asked after each iteration whether to stop before maxIter (a speculative refit learns its
   * count while boosting: training/gbdt/fit-gbdt.ts). The trees grown so far do not depend on it.
   */
  stopAfter?: (iteration: number) => boolean;
  /** Told each new best validation iteration and its watched value (a speculative refit need not grow past it). */
  onBest?: (iteration: number, watched: number) => void;
  /** Passes stay on the calling thread until this returns true (./engine-protocol.ts EngineSetup). */
  shareWhen?: () => boolean;
}

/**
 * What early stopping watches on the validation rows: `value` of their raw scores (lower is
 * better; e.g. 1 − ROC-AUC), computed every `every` iterations. Absent: the validation loss.
 */
export interface StoppingRule {
  /** `sortPair` sorts two arrays from `sortArrays` at once (on two threads when boosting has them). */
  value: (rawValidation: Float64Array, sorter: Sorter) => number;
  every: number;
}

/** Sorting two arrays at once, for ROC-AUC's positives and negatives (./engine.ts). */
export interface Sorter {
  sortArrays(na: number, nb: number): [Float64Array, Float64Array];
  sortPair(a: Float64Array, b: Float64Array): void;
}

const serialSorter: Sorter = {
  sortArrays: (na, nb) => [new Float64Array(na), new Float64Array(nb)],
  sortPair: (a, b) => {
    sortF64(a);
    sortF64(b);
  },
};

export interface BoostRows {
  bins: Uint8Array;
  /** Binary: 0/1; multi-class: class index; regression: the value (scaled). */
  y: Float32Array;
  /** Per-row weights (class weights); absent: 1. */
  weight?: Float32Array;
}

export interface BoostResult {
  model: TreeEnsembleJson;
  bestIteration: number;
  /** Raw scores of the validation rows by the kept trees (rows × classes). */
  validationScores: Float64Array;
  iterations: number;
  /** Every 50th iteration's losses. */
  history: { iteration: number; trainLoss: number; validationLoss: number }[];
  /** Threads the passes over rows ran on. */
  threads: number;
  /** Passes shared between threads, and big passes the engine kept on one thread (a busy machine: engine.ts). */
  parallel: { parallel: number; backedOff: number; startupMs: number };
}

export function baseScore(objective: Objective, y: Float32Array, k: number, weight?: Float32Array): number[] {
  const w = (r: number) => weight?.[r] ?? 1;
  let total = 0;
  const sums = new Float64Array(k);
  for (let r = 0; r < y.length; r++) {
    total += w(r);
    if (objective === 'multiclass') sums[y[r]] += w(r);
    else sums[0] += w(r) * y[r];
  }
  if (objective === 'regression') return [sums[0] / total];
  const clamp = (p: number) => Math.min(1 - 1e-6, Math.max(1e-6, p));
  if (objective === 'binary') {
    const p = clamp(sums[0] / total);
    return [Math.log(p / (1 - p))];
  }
  return Array.from(sums, (s) => Math.log(clamp(s / total)));
}

/** Mean loss of raw scores (rows × k). Multi-class and binary: log loss; regression: squared error / 2. */
export function meanLoss(objective: Objective, raw: Float64Array, y: Float32Array, k: number): number {
  let s = 0;
  const n = y.length;
  for (let r = 0; r < n; r++) {
    if (objective === 'regression') s += 0.5 * (raw[r] - y[r]) ** 2;
    else if (objective === 'binary') {
      const z = raw[r];
      // log(1 + e^z) − y·z, stable for large |z|.
      s += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[r] * z;
    } else {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, raw[r * k + c]);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(raw[r * k + c] - max);
      s += max + Math.log(sum) - raw[r * k + y[r]];
    }
  }
  return s / n;
}

export function boost(
  objective: Objective,
  k: number,
  inputs: TreeInput[],
  binCounts: number[],
  train: BoostRows,
  validation: BoostRows,
  p: BoostParams,
  /** Called every `logEvery` iterations with both losses (each costs a pass over the rows). */
  onIteration?: (i: number, trainLoss: number, validationLoss: number) => void,
  stopping?: StoppingRule,
): BoostResult {
  const width = inputs.length;
  const n = train.y.length;
  const nv = validation.y.length;
  const layout = histLayout(
    binCounts,
    inputs.map((i) => i.kind === 'categorical'),
  );
  const base = baseScore(objective, train.y, k, train.weight);
  const counts = rootCounts(train.bins, width, layout);
  const engine = new Engine({
    objective,
    k,
    bins: train.bins,
    width,
    offsets: layout.offsets,
    counts,
    y: train.y,
    weight: train.weight,
    validationBins: validation.bins,
    maxNodes: 2 * p.maxLeaves,
    slots: slotsFor(p.maxLeaves),
    slotSize: layout.total * 3,
    threads: p.threads ?? gbdtThreads(n, width),
    // A thread count chosen by the machine adapts to its load; one set (GBDT_THREADS, tests) is used as set.
    adaptive: p.threads === undefined && !process.env.GBDT_THREADS,
    shareWhen: p.shareWhen,
  });
  try {
    if (p.waitForWorkers && !engine.waitForWorkers())
      throw new Error('the gbdt worker threads did not start within 60 s; set GBDT_THREADS=1 to train on one thread');
    // Multi-class: every class's tree of an iteration fits the gradients at the scores before it.
    const before = engine.arrays.scores;
    const raw = k > 1 ? new Float64Array(n * k) : before;
    const rawV = engine.arrays.rawV;
    for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) raw[r * k + c] = base[c];
    for (let r = 0; r < nv; r++) for (let c = 0; c < k; c++) rawV[r * k + c] = base[c];
    const order = engine.arrays.order;
    const trees: TreeJson[] = [];
    const history: BoostResult['history'] = [];
    const watch = (raw: Float64Array) =>
      stopping ? stopping.value(raw, engine) : meanLoss(objective, raw, validation.y, k);
    let best = { iteration: 0, loss: nv ? watch(rawV) : Infinity };
    let iterations = 0;
    // The validation scores of the kept trees, so the caller need not evaluate them again.
    const bestRawV = Float64Array.from(rawV);
    for (let it = 1; it <= p.maxIter; it++) {
      if (k > 1) before.set(raw);
      for (let c = 0; c < k; c++) {
        engine.gradients(c);
        const grown = growTree({ layout, engine }, p);
        for (const leaf of grown.leaves)
          for (let i = leaf.start; i < leaf.end; i++) raw[order[i] * k + c] += leaf.value;
        if (nv) engine.score(compileTree(grown.tree, inputs), c);
        trees.push(grown.tree);
      }
      if (it % LOG_EVERY === 0) {
        const trainLoss = meanLoss(objective, raw, train.y, k);
        const validationLoss = nv ? meanLoss(objective, rawV, validation.y, k) : trainLoss;
        history.push({ iteration: it, trainLoss, validationLoss });
        onIteration?.(it, trainLoss, validationLoss);
      }
      iterations = it;
      if (nv && (!stopping || it % stopping.every === 0 || it === p.maxIter)) {
        const watched = watch(rawV);
        if (watched < best.loss - 1e-7) {
          best = { iteration: it, loss: watched };
          p.onBest?.(it, watched);
          bestRawV.set(rawV);
        }
      }
      if (nv && it - best.iteration >= p.patience) break;
      // A tree of a single leaf with value 0 means no split gains anything: more iterations add nothing.
      if (trees.slice(-k).every((t) => t.feature.length === 1 && Math.abs(t.value[0]) < 1e-15)) break;
      if (p.stopAfter?.(it)) break;
    }
    // Without validation rows there is nothing to stop on: every iteration is kept.
    const kept = nv ? best.iteration : iterations;
    return {
      model: { format: 1, objective, classes: k, base_score: base, inputs, trees: trees.slice(0, kept * k) },
      bestIteration: kept,
      validationScores: bestRawV,
      iterations,
      history,
      threads: engine.threads,
      parallel: { ...engine.stats },
    };
  } finally {
    engine.close();
  }
}

/**
 * ROC-AUC of raw binary scores (monotone in the probability, so the same AUC): the positives'
 * and negatives' scores radix-sorted (./sort-f64.ts) and merged, ties counted half — much
 * faster than a comparator sort, which matters when early stopping takes it every iteration.
 */
export function rawRocAuc(raw: Float64Array, y: Float32Array, sorter: Sorter = serialSorter): number {
  let np = 0;
  for (let r = 0; r < y.length; r++) if (y[r] === 1) np++;
  const [pos, neg] = sorter.sortArrays(np, y.length - np);
  let i = 0;
  let j = 0;
  for (let r = 0; r < y.length; r++) {
    if (y[r] === 1) pos[i++] = raw[r];
    else neg[j++] = raw[r];
  }
  if (!pos.length || !neg.length) return NaN;
  sorter.sortPair(pos, neg);
  // For each positive: negatives strictly below it, plus half of those equal.
  let below = 0;
  let upTo = 0;
  let wins = 0;
  for (const s of pos) {
    while (below < neg.length && neg[below] < s) below++;
    if (upTo < below) upTo = below;
    while (upTo < neg.length && neg[upTo] === s) upTo++;
    wins += below + (upTo - below) / 2;
  }
  return wins / (pos.length * neg.length);
}
