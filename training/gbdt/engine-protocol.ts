/**
 * What ./engine.ts and its worker threads (./engine-worker.ts) share: the control words and
 * tasks, the arrays, how a pass is split between threads, and how many threads to use.
 */
import { usableCores } from '../../core/platform/cpu-quota.ts';
import type { CompiledTree } from '../../core/model/tree-value.ts';
import type { Objective } from './gradients.ts';

/** Below this many rows a pass runs on the calling thread alone. */
export const PARALLEL_MIN_ROWS = 16_384;
/**
 * A smaller child's histogram is shared from this many row × input updates (~40 µs of work per
 * thread): most children of a 127-leaf tree are a few thousand rows, and at PARALLEL_MIN_ROWS
 * the workers built almost none of them (profiled: 3 % of the child histograms).
 */
export const PARALLEL_MIN_UPDATES = 32_768;
/**
 * Below this many training rows boosting uses one thread: its root pass computes the gradients
 * too (engine.ts), and there are no workers to start (0.3–0.6 s) or wake per pass. Measured on
 * the quick default (105,009 rows, 150 iterations, load 9.3): one thread 42.7 ms per iteration,
 * two always sharing 51.3, two sharing when probed faster 55.6 (docs/training-speed.md).
 */
export const AUTO_PARALLEL_MIN_ROWS = 300_000;

/** Control words (Int32Array over a SharedArrayBuffer). */
export const CTRL = { GEN: 0, KIND: 1, START: 2, END: 3, SLOT: 4, CLASS: 5, ERROR: 6, DONE: 8 } as const;
export const TASK = { ROOT: 1, RANGE: 2, GRADIENTS: 3, EXIT: 4, SCORE: 5, SORT: 6, PARTITION: 7 } as const;

/**
 * Threads for `rows` training rows and `width` inputs: GBDT_THREADS if set, else the machine's
 * available parallelism; at most one per input (histograms are split by inputs) and 8; one below
 * AUTO_PARALLEL_MIN_ROWS rows unless GBDT_THREADS says otherwise. Threads the machine chose
 * share a pass only while sharing is measured faster (Engine.run); GBDT_THREADS's always share.
 */
export function gbdtThreads(rows: number, width: number, env = process.env.GBDT_THREADS): number {
  if (env !== undefined && env !== '') {
    const t = Number(env);
    if (!Number.isInteger(t) || t < 1)
      throw new Error(`GBDT_THREADS is ${JSON.stringify(env)}; set it to a whole number ≥ 1 (1: no worker threads)`);
    return Math.max(1, Math.min(t, width, 8));
  }
  if (rows < AUTO_PARALLEL_MIN_ROWS) return 1;
  return Math.max(1, Math.min(usableCores(), width, 8));
}

export interface EngineSetup {
  objective: Objective;
  k: number;
  /** Rows × inputs, row-major. */
  bins: Uint8Array;
  width: number;
  offsets: Int32Array;
  /** Rows per bin over all rows (split.ts rootCounts). */
  counts: Float64Array;
  y: Float32Array;
  weight?: Float32Array;
  /** Validation rows × inputs, row-major (their scores are updated tree by tree). */
  validationBins: Uint8Array;
  /** Nodes of the largest tree (2 × leaves − 1). */
  maxNodes: number;
  /** Histogram slots: each holds `slotSize` doubles. */
  slots: number;
  slotSize: number;
  threads: number;
  /** Choose per pass between sharing and this thread by timing both (absent: always share big passes). */
  adaptive?: boolean;
  /**
   * Every pass runs on the calling thread until this returns true (asked once per pass until it
   * does): a speculative refit beside two other training threads takes no second core until they
   * are done (training/select/refit-off-thread.ts). Not sent to the workers.
   */
  shareWhen?: () => boolean;
}

/** The arrays and shared state both sides see (plain on one thread, shared with workers). */
export interface EngineArrays {
  bins: Uint8Array;
  y: Float32Array;
  weight?: Float32Array;
  /** Scores the gradients are taken at (rows × k). */
  scores: Float64Array;
  grad: Float32Array;
  hess: Float32Array;
  order: Int32Array;
  hists: Float64Array;
  /** The bins input-major (input f's column at f × rows): one input's bins by row, for partitioning. */
  columns: Uint8Array;
  scratch: Int32Array;
  /** The split being applied: which bins go left, and each thread's count of rows that went left. */
  goesLeft: Uint8Array;
  lefts: Int32Array;
  validationBins: Uint8Array;
  /** Validation scores (rows × k). */
  rawV: Float64Array;
  /** The tree being applied to the validation rows (workers read it here). */
  tree: CompiledTree;
  /** Two arrays sorted at once (the positives' and negatives' scores of ROC-AUC). */
  sortA: Float64Array;
  sortB: Float64Array;
}

/** A compiled tree's arrays with room for `nodes` nodes, over shared memory when `par`. */
export function treeBuffer(nodes: number, par: boolean): CompiledTree {
  const mem = (bytes: number) =>
    par ? new SharedArrayBuffer(Math.max(8, bytes)) : new ArrayBuffer(Math.max(8, bytes));
  return {
    feature: new Int32Array(mem(nodes * 4)),
    threshold: new Int32Array(mem(nodes * 4)),
    defaultLeft: new Uint8Array(mem(nodes)),
    left: new Int32Array(mem(nodes * 4)),
    right: new Int32Array(mem(nodes * 4)),
    value: new Float64Array(mem(nodes * 8)),
    masks: new Uint32Array(mem(nodes * 32)),
    categorical: new Uint8Array(mem(nodes)),
  };
}

export const shared = <T>(make: (b: SharedArrayBuffer) => T, bytes: number) =>
  make(new SharedArrayBuffer(Math.max(8, bytes)));

/** The share (start, end) of `count` items of thread t out of `threads`. */
export function share(count: number, t: number, threads: number): [number, number] {
  return [Math.floor((count * t) / threads), Math.floor((count * (t + 1)) / threads)];
}
