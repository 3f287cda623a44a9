/**
 * Where boosting's passes over the training rows run: the gradients (split by rows) and the
 * histograms (split by inputs), on the calling thread alone or shared with worker threads
 * (./engine-worker.ts) over SharedArrayBuffers. Every split leaves each value computed by the
 * same loop in the same order as on one thread, so the trees are the same bits whatever the
 * number of threads. Small ranges stay on the calling thread: waking a worker costs tens of
 * microseconds, more on a busy machine.
 */
import { treeValue, type CompiledTree } from '../../core/model/tree-value.ts';
import { gradients } from './gradients.ts';
import { addRootRows, buildHistogram, buildRootHistogram, rootCountsInto } from './split.ts';
import { sortF64 } from './sort-f64.ts';
import { assembleChunks, partitionChunk } from './partition.ts';
import {
  PARALLEL_MIN_ROWS,
  PARALLEL_MIN_UPDATES,
  share,
  TASK,
  type EngineArrays,
  type EngineSetup,
} from './engine-protocol.ts';
import { engineArrays } from './engine-arrays.ts';
import { AdaptiveSharing } from './engine-adaptive.ts';
import { WorkerPool } from './engine-pool.ts';

export { gbdtThreads, PARALLEL_MIN_ROWS, share } from './engine-protocol.ts';

/** Rows per block of the one-thread root pass: their gradients stay in cache for the histogram. */
const ROOT_BLOCK = 4096;

export class Engine {
  readonly arrays: EngineArrays;
  readonly threads: number;
  private readonly pool: WorkerPool;
  /** The class whose gradients root() computes first (one thread), −1: none pending. */
  private pendingClass = -1;
  /** Whether s.shareWhen has said yes (or there is none). */
  private open: boolean;
  /** Whether a big pass is shared or run here, chosen per kind of pass by timing both ways. */
  private readonly sharing = new AdaptiveSharing();
  /** Big passes shared between threads, and big passes run on this thread (probing or faster so). */
  readonly stats = { parallel: 0, backedOff: 0, startupMs: -1 };

  constructor(private readonly s: EngineSetup) {
    const threads = Math.max(1, Math.min(s.threads, s.width));
    this.arrays = engineArrays(s, threads);
    this.open = !s.shareWhen;
    this.pool = new WorkerPool(s, this.arrays, threads);
    this.threads = threads;
  }

  /** Block until every worker has started (tests: the passes shared from the first), at most `ms`. */
  waitForWorkers(ms = 60_000): boolean {
    if (this.threads === 1) return true;
    return this.pool.waitForWorkers(ms) && this.workersReady();
  }

  /** Whether every worker has started (./engine-pool.ts: passes run on this thread until then). */
  private workersReady(): boolean {
    if (this.stats.startupMs >= 0) return true;
    if (!this.pool.allStarted()) return false;
    this.stats.startupMs = this.pool.startupMs;
    return true;
  }

  /** Every pass on this thread: no workers, or s.shareWhen has not said yes yet. */
  private solo(): boolean {
    if (this.threads === 1) return true;
    if (!this.open) this.open = this.s.shareWhen!();
    return !this.open;
  }

  /**
   * Gradients and hessians of class c at `arrays.scores`. On one thread they are computed by the
   * next root() in the same pass as the root's histogram (block by block, still in cache).
   */
  gradients(c: number): void {
    if (this.solo()) {
      // Two requests before a root() would silently lose the first class's gradients.
      if (this.pendingClass !== -1)
        throw new Error(`gbdt engine: gradients(${c}) before root() used class ${this.pendingClass}'s`);
      this.pendingClass = c;
      return;
    }
    this.gradientPass(c);
  }

  private gradientPass(c: number): void {
    const { scores, y, weight, grad, hess } = this.arrays;
    const n = y.length;
    this.run(TASK.GRADIENTS, 0, n, 0, c, (t, threads) => {
      const [r0, r1] = share(n, t, threads);
      gradients(this.s.objective, scores, y, weight, this.s.k, c, grad, hess, r0, r1);
    });
  }

  /** The root's histogram (every row) into `slot`; returns the sums of the gradients and hessians (row order). */
  root(slot: number): { g: number; h: number } {
    const n = this.s.y.length;
    const { bins, grad, hess, scores, y, weight } = this.arrays;
    const { width, offsets, counts } = this.s;
    const c = this.pendingClass;
    this.pendingClass = -1;
    let g = 0;
    let h = 0;
    // Gradients deferred by gradients() are computed here even if sharing began in between.
    if (c >= 0 || this.solo()) {
      // One pass instead of three (gradients, histogram, totals): the same values in the same order.
      const hist = this.hist(slot);
      hist.fill(0);
      for (let r0 = 0; r0 < n; r0 += ROOT_BLOCK) {
        const r1 = Math.min(n, r0 + ROOT_BLOCK);
        if (c >= 0) gradients(this.s.objective, scores, y, weight, this.s.k, c, grad, hess, r0, r1);
        addRootRows(hist, bins, width, offsets, grad, hess, r0, r1);
        for (let r = r0; r < r1; r++) {
          g += grad[r];
          h += hess[r];
        }
      }
      rootCountsInto(hist, counts);
      return { g, h };
    }
    this.run(TASK.ROOT, 0, n, slot, 0, (t, threads) => {
      const [f0, f1] = share(width, t, threads);
      buildRootHistogram(this.hist(slot), bins, width, offsets, grad, hess, counts, f0, f1);
    });
    for (let r = 0; r < n; r++) {
      g += grad[r];
      h += hess[r];
    }
    return { g, h };
  }

  /** The histogram of the rows order[start..end) into `slot`. */
  range(slot: number, start: number, end: number): void {
    this.run(TASK.RANGE, start, end, slot, 0, (t, threads) => {
      const [f0, f1] = share(this.s.width, t, threads);
      const { bins, grad, hess, order } = this.arrays;
      buildHistogram(this.hist(slot), bins, this.s.width, this.s.offsets, grad, hess, order, start, end, f0, f1);
    });
  }

  /**
   * Stable partition of order[start..end) by input `feature` (rows whose bin `goesLeft` marks
   * first); returns where the rights start. Threads take a chunk each, put together here.
   */
  partition(feature: number, goesLeft: Uint8Array, start: number, end: number): number {
    const { order, columns, scratch, lefts } = this.arrays;
    const n = order.length;
    const col = columns.subarray(feature * n, (feature + 1) * n);
    const threads = this.threads;
    if (goesLeft !== this.arrays.goesLeft) this.arrays.goesLeft.set(goesLeft);
    if (this.solo()) {
      const mid = start + partitionChunk(order, col, goesLeft, start, end, scratch);
      order.set(scratch.subarray(start, start + end - mid), mid);
      return mid;
    }
    const chunk = (t: number): [number, number] => {
      const [a, b] = share(end - start, t, threads);
      return [start + a, start + b];
    };
    this.run(TASK.PARTITION, start, end, feature, 0, (t) => {
      const [a, b] = chunk(t);
      lefts[t] = partitionChunk(order, col, goesLeft, a, b, scratch);
    });
    return assembleChunks(
      order,
      scratch,
      Array.from({ length: threads }, (_, t) => chunk(t)),
      lefts,
      start,
    );
  }

  /** Add the tree's values to class c of the validation scores. */
  score(tree: CompiledTree, c: number): void {
    const { validationBins, rawV } = this.arrays;
    const { width, k } = this.s;
    const nv = validationBins.length / width;
    const par = nv >= PARALLEL_MIN_ROWS && !this.solo();
    if (par) {
      const t = this.arrays.tree;
      const nodes = tree.feature.length;
      if (nodes > this.s.maxNodes) throw new Error(`a tree of ${nodes} nodes exceeds the engine's ${this.s.maxNodes}`);
      t.feature.set(tree.feature);
      t.threshold.set(tree.threshold);
      t.defaultLeft.set(tree.defaultLeft);
      t.left.set(tree.left);
      t.right.set(tree.right);
      t.value.set(tree.value);
      t.masks.set(tree.masks);
      t.categorical.set(tree.categorical);
    }
    const use = par ? this.arrays.tree : tree;
    this.run(TASK.SCORE, 0, par ? nv : 0, 0, c, (t, threads) => {
      const [r0, r1] = share(nv, t, threads);
      for (let r = r0; r < r1; r++) rawV[r * k + c] += treeValue(use, validationBins, r * width);
    });
  }

  /**
   * Sort a[0..na) and b[0..nb) ascending (./sort-f64.ts), on two threads when there are: `a`
   * and `b` are views of arrays.sortA / sortB when the engine has workers, else any arrays.
   */
  sortPair(a: Float64Array, b: Float64Array): void {
    if (a.length + b.length < PARALLEL_MIN_ROWS || this.solo()) {
      sortF64(a);
      sortF64(b);
      return;
    }
    this.run(TASK.SORT, 0, a.length + b.length, a.length, b.length, (t) => {
      if (t === 0) sortF64(b);
      else if (t === 1) sortF64(a);
    });
  }

  /** Arrays of these lengths for sortPair. */
  sortArrays(na: number, nb: number): [Float64Array, Float64Array] {
    return [this.arrays.sortA.subarray(0, na), this.arrays.sortB.subarray(0, nb)];
  }

  hist(slot: number): Float64Array {
    return this.arrays.hists.subarray(slot * this.s.slotSize, (slot + 1) * this.s.slotSize);
  }

  close(): void {
    this.pool.close();
  }

  /** `own(t, threads)` for every thread's share: the workers' through the control words, thread 0's here. */
  private run(
    kind: number,
    start: number,
    end: number,
    slot: number,
    c: number,
    own: (t: number, threads: number) => void,
  ): void {
    const threads = this.threads;
    const rows = end - start;
    const big =
      threads > 1 &&
      (kind === TASK.RANGE ? rows * this.s.width >= PARALLEL_MIN_UPDATES : rows >= PARALLEL_MIN_ROWS) &&
      this.workersReady() &&
      !this.solo();
    // A busy machine can make sharing cost more than it saves (./engine-adaptive.ts).
    const adaptive = big && this.s.adaptive;
    const shared = big && (!adaptive || this.sharing.shares(kind));
    const t0 = big ? performance.now() : 0;
    if (shared) {
      this.pool.runShared(kind, start, end, slot, c, () => own(0, threads));
      this.stats.parallel++;
    } else {
      // The same shares one after the other: the same loops, so the same sums.
      for (let t = 0; t < threads; t++) own(t, threads);
      if (big) this.stats.backedOff++;
    }
    if (adaptive) this.sharing.record(kind, performance.now() - t0, rows);
    const text = this.pool.failure();
    if (text !== null) {
      this.close();
      throw new Error(`a gbdt worker thread failed: ${text}; set GBDT_THREADS=1 to train on one thread`);
    }
  }
}
