/**
 * The calling thread's side of the gbdt engine's worker threads (./engine-worker.ts): starting
 * them on the shared arrays, knowing when they have all started, posting a pass through the
 * control words (./engine-protocol.ts CTRL) and waiting for every worker's share, and the text of
 * a worker's failure. Which passes are shared is ./engine.ts's choice.
 */
import { Worker } from 'node:worker_threads';
import { CTRL, shared, TASK, type EngineArrays, type EngineSetup } from './engine-protocol.ts';

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly ctrl: Int32Array;
  private readonly errorText: Uint8Array;
  private gen = 0;
  private ready = false;
  private readonly started: number;
  /** Milliseconds from the pool's creation until every worker had started; −1 until then. */
  startupMs = -1;

  constructor(
    setup: EngineSetup,
    arrays: EngineArrays,
    readonly threads: number,
  ) {
    this.ctrl = shared((b) => new Int32Array(b), (CTRL.DONE + threads) * 4);
    this.errorText = shared((b) => new Uint8Array(b), 1024);
    // Workers announce themselves by setting their DONE word to 0 (it starts at −1).
    for (let w = 1; w < threads; w++) this.ctrl[CTRL.DONE + w] = -1;
    for (let w = 1; w < threads; w++) {
      const worker = new Worker(new URL('./engine-worker.ts', import.meta.url), {
        workerData: {
          setup: { ...setup, bins: undefined, y: undefined, weight: undefined, shareWhen: undefined },
          arrays,
          ctrl: this.ctrl,
          errorText: this.errorText,
          index: w,
          threads,
        },
      });
      worker.unref();
      this.workers.push(worker);
    }
    this.started = performance.now();
  }

  /** Block until every worker has started, at most `ms`. */
  waitForWorkers(ms: number): boolean {
    if (this.threads === 1) return true;
    const until = performance.now() + ms;
    for (let w = 1; w < this.threads; w++)
      while (Atomics.load(this.ctrl, CTRL.DONE + w) === -1 && Atomics.load(this.ctrl, CTRL.ERROR) === 0) {
        const left = until - performance.now();
        if (left <= 0) return false;
        Atomics.wait(this.ctrl, CTRL.DONE + w, -1, Math.min(left, 100));
      }
    return this.allStarted();
  }

  /**
   * Whether every worker has started. Nothing waits for them: passes run on the calling thread
   * until they have (the same bits either way), so their start-up (~0.3–2 s of module loading)
   * overlaps boosting instead of delaying it.
   */
  allStarted(): boolean {
    if (this.ready) return true;
    if (this.threads === 1 || Atomics.load(this.ctrl, CTRL.ERROR) !== 0) return false;
    for (let w = 1; w < this.threads; w++) if (Atomics.load(this.ctrl, CTRL.DONE + w) === -1) return false;
    this.startupMs = Math.round(performance.now() - this.started);
    return (this.ready = true);
  }

  /** Post a pass to the workers, run the calling thread's share (`own`) meanwhile, and wait for theirs. */
  runShared(kind: number, start: number, end: number, slot: number, c: number, own: () => void): void {
    const gen = this.post(kind, start, end, slot, c);
    own();
    for (let w = 1; w < this.threads; w++) {
      let v: number;
      while ((v = Atomics.load(this.ctrl, CTRL.DONE + w)) !== gen) Atomics.wait(this.ctrl, CTRL.DONE + w, v, 1000);
    }
  }

  /** What a worker reported when its share of a pass threw, or null. */
  failure(): string | null {
    if (Atomics.load(this.ctrl, CTRL.ERROR) === 0) return null;
    return new TextDecoder().decode(this.errorText.slice()).replace(/\0+$/, '');
  }

  close(): void {
    if (this.ready) this.post(TASK.EXIT, 0, 0, 0, 0);
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
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
}
