/**
 * Where boosting's passes over the training rows run: the gradients (split by rows) and the
 * histograms (split by inputs), on the calling thread alone or shared with worker threads
 * (./engine-worker.ts) over SharedArrayBuffers. Every split leaves each value computed by the
 * same loop in the same order as on one thread, so the trees are the same bits whatever the
 * number of threads. Small ranges stay on the calling thread: waking a worker costs tens of
 * microseconds, more on a busy machine.
 */
import { Worker } from 'node:worker_threads';
import { treeValue, type CompiledTree } from '../../core/model/tree-value.ts';
import { gradients } from './gradients.ts';
import { addRootRows, buildHistogram, buildRootHistogram, rootCountsInto } from './split.ts';
import { sortF64 } from './sort-f64.ts';
import { assembleChunks, partitionChunk } from './partition.ts';
import {
  CTRL,
  PARALLEL_MIN_ROWS,
  PARALLEL_MIN_UPDATES,
  share,
  shared,
  TASK,
  treeBuffer,
  type EngineArrays,
  type EngineSetup,
} from './engine-protocol.ts';

export { gbdtThreads, PARALLEL_MIN_ROWS, share } from './engine-protocol.ts';

/** Big passes timed each way before choosing, and passes run the chosen way before probing again. */
const PROBE = 8;
const KEEP = 200;
/** Rows per block of the one-thread root pass: their gradients stay in cache for the histogram. */
const ROOT_BLOCK = 4096;

/** One kind of pass's probes: where in its cycle it is, and ms and rows timed each way. */
interface Probe {
  phase: number;
  inPhase: number;
  ms: [number, number];
  rows: [number, number];
  useParallel: boolean;
}

export class Engine {
  readonly arrays: EngineArrays;
  readonly threads: number;
  private readonly workers: Worker[] = [];
  private readonly ctrl: Int32Array;
  private readonly errorText: Uint8Array;
  private gen = 0;
  /** The class whose gradients root() computes first (one thread), −1: none pending. */
  private pendingClass = -1;
  private ready = false;
  /** Whether s.shareWhen has said yes (or there is none). */
  private open: boolean;
  private readonly started: number;
  /**
   * Adaptive sharing, per kind of pass (their costs per row differ): big passes alternate
   * between probes (PROBE shared, PROBE on this thread, timed per row) and a run of KEEP passes
   * the faster way. The trees are the same either way.
   */
  private readonly probes = new Map<number, Probe>();
  /** Big passes shared between threads, and big passes run on this thread (probing or faster so). */
  readonly stats = { parallel: 0, backedOff: 0, startupMs: -1 };

  constructor(private readonly s: EngineSetup) {
    const n = s.y.length;
    const threads = Math.max(1, Math.min(s.threads, s.width));
    const par = threads > 1;
    const f32 = (len: number) => (par ? shared((b) => new Float32Array(b), len * 4) : new Float32Array(len));
    const copyF32 = (a: Float32Array) => {
      const out = f32(a.length);
      out.set(a);
      return out;
    };
    const copyU8 = (a: Uint8Array) => {
      if (!par) return a;
      const out = shared((b) => new Uint8Array(b), a.length).subarray(0, a.length);
      out.set(a);
      return out;
    };
    const nv = s.validationBins.length / s.width;
    const f64 = (len: number) => (par ? shared((b) => new Float64Array(b), len * 8) : new Float64Array(len));
    this.arrays = {
      bins: copyU8(s.bins),
      y: par ? copyF32(s.y) : s.y,
      weight: s.weight && (par ? copyF32(s.weight) : s.weight),
      scores: f64(n * s.k),
      grad: f32(n),
      hess: f32(n),
      order: par ? shared((b) => new Int32Array(b), n * 4) : new Int32Array(n),
      hists: f64(s.slots * s.slotSize),
      columns: par
        ? shared((b) => new Uint8Array(b), s.bins.length).subarray(0, s.bins.length)
        : new Uint8Array(s.bins.length),
      scratch: par ? shared((b) => new Int32Array(b), n * 4) : new Int32Array(n),
      goesLeft: par ? shared((b) => new Uint8Array(b), 256) : new Uint8Array(256),
      lefts: par ? shared((b) => new Int32Array(b), threads * 4) : new Int32Array(threads),
      validationBins: copyU8(s.validationBins),
      rawV: f64(nv * s.k),
      tree: treeBuffer(par ? s.maxNodes : 0, par),
      sortA: f64(nv),
      sortB: f64(nv),
    };
    const { columns } = this.arrays;
    for (let r = 0; r < n; r++) for (let f = 0; f < s.width; f++) columns[f * n + r] = s.bins[r * s.width + f];
    this.open = !s.shareWhen;
    this.ctrl = shared((b) => new Int32Array(b), (CTRL.DONE + threads) * 4);
    this.errorText = shared((b) => new Uint8Array(b), 1024);
    // Workers announce themselves by setting their DONE word to 0 (it starts at −1).
    for (let w = 1; w < threads; w++) this.ctrl[CTRL.DONE + w] = -1;
    for (let w = 1; w < threads; w++) {
      const worker = new Worker(new URL('./engine-worker.ts', import.meta.url), {
        workerData: {
          setup: { ...s, bins: undefined, y: undefined, weight: undefined, shareWhen: undefined },
          arrays: this.arrays,
          ctrl: this.ctrl,
          errorText: this.errorText,
          index: w,
          threads,
        },
      });
      worker.unref();
      this.workers.push(worker);
    }
    this.threads = threads;
    this.started = performance.now();
  }

  /** Block until every worker has started (tests: the passes shared from the first), at most `ms`. */
  waitForWorkers(ms = 60_000): boolean {
    if (this.threads === 1) return true;
    const until = performance.now() + ms;
    for (let w = 1; w < this.threads; w++)
      while (Atomics.load(this.ctrl, CTRL.DONE + w) === -1 && Atomics.load(this.ctrl, CTRL.ERROR) === 0) {
        const left = until - performance.now();
        if (left <= 0) return false;
        Atomics.wait(this.ctrl, CTRL.DONE + w, -1, Math.min(left, 100));
      }
    return this.workersReady();
  }

  /**
   * Whether every worker has started. Nothing waits for them: passes run on this thread until
   * they have (the same bits either way), so their start-up (~0.3–2 s of module loading)
   * overlaps boosting instead of delaying it.
   */
  private workersReady(): boolean {
    if (this.ready) return true;
    if (this.threads === 1 || Atomics.load(this.ctrl, CTRL.ERROR) !== 0) return false;
    for (let w = 1; w < this.threads; w++) if (Atomics.load(this.ctrl, CTRL.DONE + w) === -1) return false;
    this.stats.startupMs = Math.round(performance.now() - this.started);
    return (this.ready = true);
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
    if (this.ready) this.post(TASK.EXIT, 0, 0, 0, 0);
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }

  private probe(kind: number): Probe {
    let p = this.probes.get(kind);
    if (!p) this.probes.set(kind, (p = { phase: 0, inPhase: 0, ms: [0, 0], rows: [0, 0], useParallel: true }));
    return p;
  }

  private adapt(p: Probe, ms: number, rows: number): void {
    if (p.phase < 2) {
      p.ms[p.phase] += ms;
      p.rows[p.phase] += rows;
    }
    if (++p.inPhase < (p.phase === 2 ? KEEP : PROBE)) return;
    p.inPhase = 0;
    if (p.phase === 1) {
      p.useParallel = p.ms[0] / Math.max(1, p.rows[0]) < p.ms[1] / Math.max(1, p.rows[1]);
      p.ms = [0, 0];
      p.rows = [0, 0];
    }
    p.phase = (p.phase + 1) % 3;
  }

  private post(kind: number, start: number, end: number, slot: number, c: number): number {
    const ctrl = this.ctrl;
    ctrl[CTRL.KIND] = kind;
    ctrl[CTRL.START] = start;
    ctrl[CTRL.END] = end;
    ctrl[CTRL.SLOT] = slot;
    ctrl[CTRL.CLASS] = c;
    const gen = ++this.gen;
    Atomics.store(ctrl, CTRL.GEN, gen);
    Atomics.notify(ctrl, CTRL.GEN);
    return gen;
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
    // On a machine busy with other work a woken worker can wait milliseconds for a core, and
    // sharing then costs more than it saves: probe both ways now and then, keep the faster.
    const probe = big && this.s.adaptive ? this.probe(kind) : null;
    const shared = big && (!probe || probe.phase === 0 || (probe.phase === 2 && probe.useParallel));
    const t0 = big ? performance.now() : 0;
    if (shared) {
      const gen = this.post(kind, start, end, slot, c);
      own(0, threads);
      for (let w = 1; w < threads; w++) {
        let v: number;
        while ((v = Atomics.load(this.ctrl, CTRL.DONE + w)) !== gen) Atomics.wait(this.ctrl, CTRL.DONE + w, v, 1000);
      }
      this.stats.parallel++;
    } else {
      // The same shares one after the other: the same loops, so the same sums.
      for (let t = 0; t < threads; t++) own(t, threads);
      if (big) this.stats.backedOff++;
    }
    if (probe) this.adapt(probe, performance.now() - t0, rows);
    if (Atomics.load(this.ctrl, CTRL.ERROR) !== 0) {
      const text = new TextDecoder().decode(this.errorText.slice()).replace(/\0+$/, '');
      this.close();
      throw new Error(`a gbdt worker thread failed: ${text}; set GBDT_THREADS=1 to train on one thread`);
    }
  }
}
