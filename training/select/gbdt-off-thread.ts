/**
 * A tree candidate fitted on a worker thread while this thread trains the network candidates.
 * Both are mostly one thread's work (the trees' second thread gained 0–24 % here,
 * docs/training-speed.md), so on two otherwise idle cores the network's seconds — 4.7 of the
 * quick default's 25 s train stage — can come off the wall time. The fit is the same function on the same
 * data (fitGbdt is deterministic, whatever its thread), so the trees, scores and selection are
 * the ones a fit on this thread gives; only the order of the log lines differs.
 *
 * The rows are copied to the worker (a structured clone of their typed arrays): tens of MB at the
 * quick default, ~0.4 GB on all 3M flights. They go when the machine's free memory holds
 * COPY_HEADROOM times the copies; else the fits stay on this thread. When the worker cannot start
 * at all (not when the fit fails), the caller fits on this thread instead.
 */
import { Worker } from 'node:worker_threads';
import { cpus, freemem } from 'node:os';
import { usableCores } from '../../core/platform/cpu-quota.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FeatureSpec } from '../../core/model/features.ts';
import type { LogFields, Logger, LogLevel } from '../../core/platform/log.ts';
import { treeModel, type TreeEnsembleJson } from '../../core/model/trees.ts';
import type { Table } from '../../core/data/table.ts';
import type { GbdtConfig, GbdtFit, GbdtRows, fitGbdt, refitTreesOnAll } from '../gbdt/fit-gbdt.ts';

/**
 * Free memory wanted per byte copied to a tree candidate's worker: the copy itself, the worker's
 * binned rows and boosting arrays, and room for the network training beside it.
 */
export const COPY_HEADROOM = 4;

/** Bytes of the typed arrays in `v` (what a structured clone of rows copies; strings and small objects aside). */
export function typedArrayBytes(v: unknown, depth = 0): number {
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (depth > 6 || v === null || typeof v !== 'object') return 0;
  let bytes = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) bytes += typedArrayBytes(x, depth + 1);
  return bytes;
}

type GbdtOptions = Omit<Parameters<typeof fitGbdt>[3], 'log' | 'onBest'>;
type RefitOptions = Omit<Parameters<typeof refitTreesOnAll>[4], 'log'>;
type RefitResult = ReturnType<typeof refitTreesOnAll>;

/** What the worker gets (workerData): a candidate's fit, or a speculative refit (./refit-off-thread.ts). */
export type GbdtJob = {
  /** The levels the caller's logger writes (the worker sends no others). */
  levels: LogLevel[];
} & (
  | {
      kind: 'fit';
      cfg: GbdtConfig;
      spec: FeatureSpec;
      data: { train: GbdtRows; validation: GbdtRows };
      options: GbdtOptions;
      /** A speculative refit's shared progress, told each new best iteration (./refit-off-thread.ts). */
      progress?: Int32Array;
      /** Shared with the networks training beside it: each new best validation value (training/prune.ts). */
      board?: Float64Array;
    }
  | {
      kind: 'refit';
      cfg: GbdtConfig;
      spec: FeatureSpec;
      tables: { train: Table; validation: Table };
      options: RefitOptions;
      /** Shared with the first fit and this thread, not copied (./refit-off-thread.ts). */
      progress: Int32Array;
    }
);

export type GbdtWorkerMessage =
  | { type: 'log'; path: string[]; level: LogLevel; msg: string; fields?: LogFields }
  | { type: 'done'; fit: Omit<GbdtFit, 'model'>; trees: TreeEnsembleJson }
  | { type: 'refitted'; refit: Omit<RefitResult, 'model'>; trees: TreeEnsembleJson }
  | { type: 'failed'; message: string };

/** The worker could not run the fit (it did not start, or died): fit on this thread instead. */
export class OffThreadUnavailable extends Error {}

/**
 * Whether tree candidates go to a worker: some tree and some network candidates to overlap, two
 * cores, free memory for the copies of the rows (`copyBytes` each, COPY_HEADROOM times), and CPU
 * to spare — TRAIN_PARALLEL=1 always (any memory), 0 never, unset when the load (trainingLoad
 * below) is below the core count. Alternate runs of the quick default on two cores (docs/benchmarks.md): at load
 * 1.0–1.6 the train stage took 27.2 → 22.9 s and 24.8 → 22.1 s; at load 2–3.5 no gain (25.2 →
 * 24.3 s, 28.8 → 30.5 s): the worker only competes with the others. On all flights the network's
 * epochs, one thread's work, otherwise leave the second core idle (docs/model-quality.md).
 */
export function fitTreesOffThread(
  models: readonly string[],
  copyBytes: number,
  load: number,
  env: NodeJS.ProcessEnv = process.env,
  cores = usableCores(),
  free = freemem(),
): boolean {
  if (env.TRAIN_PARALLEL === '0') return false;
  const trees = models.filter((m) => m === 'gbdt').length;
  const worth = trees > 0 && trees < models.length && cores >= 2;
  if (env.TRAIN_PARALLEL === '1') return worth;
  return worth && trees * copyBytes * COPY_HEADROOM <= free && load < cores;
}

/** A core for another thread of training: TRAIN_PARALLEL=1 always, 0 never, unset when the load is below the core count. */
export function spareCore(load: number, env: NodeJS.ProcessEnv = process.env, cores = usableCores()) {
  if (env.TRAIN_PARALLEL === '0') return false;
  return env.TRAIN_PARALLEL === '1' || (cores >= 2 && load < cores);
}

/**
 * The load the two rules above compare with the cores: this thread plus the cores the rest of
 * the machine keeps busy, sampled over `ms` while this thread waits, this process's own other
 * threads (V8's compiler and collector, workers starting) left out. Not the 1-minute load
 * average: that also counts this process's own last minute (the stage before, or bench:quality's
 * references), and on an idle two-core machine it kept the trees off the second core.
 */
export async function trainingLoad(ms = 200, sample = cpuTimes): Promise<number> {
  const a = sample();
  await sleep(ms);
  const b = sample();
  const total = b.total - a.total;
  if (total <= 0) return 1;
  const elsewhere = total - (b.idle - a.idle) - (b.own - a.own);
  return 1 + Math.max(0, (elsewhere / total) * b.cores);
}

/** Core-milliseconds since boot: idle and in all, over every core, and this process's (all its threads). */
function cpuTimes(): { idle: number; total: number; own: number; cores: number } {
  let idle = 0;
  let total = 0;
  const all = cpus();
  for (const { times: t } of all) {
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  const own = process.cpuUsage();
  return { idle, total, own: (own.user + own.system) / 1000, cores: all.length };
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function fitGbdtOffThread(
  cfg: GbdtConfig,
  spec: FeatureSpec,
  data: { train: GbdtRows; validation: GbdtRows },
  o: GbdtOptions & { log: Logger; signal?: AbortSignal; progress?: Int32Array; board?: Float64Array },
): Promise<GbdtFit> {
  const { log, signal, progress, board, ...options } = o;
  const levels = LEVELS.filter((l) => log.enabled(l));
  const job: GbdtJob = {
    kind: 'fit',
    cfg,
    spec,
    data,
    options,
    levels,
    ...(progress ? { progress } : {}),
    ...(board ? { board } : {}),
  };
  return inWorker(job, log, signal, (m) => {
    if (m.type !== 'done') throw new Error(`the tree candidate's worker answered ${m.type}, not its fit`);
    return { ...m.fit, model: treeModel(m.trees) };
  });
}

/**
 * Runs one job on a new worker: its log lines relayed to `log`, its answer turned into the
 * result by `result` (a throw there is this job's failure). Aborting `signal` terminates it.
 */
export function inWorker<T>(
  job: GbdtJob,
  log: Logger,
  signal: AbortSignal | undefined,
  result: (m: Exclude<GbdtWorkerMessage, { type: 'log' | 'failed' }>) => T,
  started?: (worker: Worker) => void,
  oneThread = job.kind === 'fit',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abandoned = () =>
      signal?.reason instanceof Error ? signal.reason : new Error(`the tree candidate's ${job.kind} was abandoned`);
    if (signal?.aborted) {
      reject(abandoned());
      return;
    }
    let worker: Worker;
    try {
      // A candidate's fit boosts on one thread unless GBDT_THREADS says otherwise: the network has
      // the other core, and a pass shared with a third thread waits for whichever the kernel
      // parked. (A refit beside a fit on another worker takes its engine's threads only once the
      // fits are done: ./refit-off-thread.ts.)
      const one = oneThread && !process.env.GBDT_THREADS;
      const env = one ? { ...process.env, GBDT_THREADS: '1' } : process.env;
      worker = new Worker(new URL('./gbdt-worker.ts', import.meta.url), { workerData: job, env });
    } catch (err) {
      reject(new OffThreadUnavailable(`the tree candidate's worker could not start: ${(err as Error).message}`));
      return;
    }
    let settled = false;
    // The caller gave up (another candidate failed, or this work is not wanted any more).
    const onAbort = () => settle(() => reject(abandoned()));
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      f();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    started?.(worker);
    worker.on('message', (m: GbdtWorkerMessage) => {
      if (m.type === 'log') m.path.reduce((l, c) => l.child(c), log)[m.level](m.msg, m.fields);
      else if (m.type === 'failed') settle(() => reject(new Error(m.message)));
      else
        settle(() => {
          // A listener that throws would take the process down; a damaged result is this job's failure.
          try {
            resolve(result(m));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
    });
    worker.on('error', (err: Error) =>
      settle(() => reject(new OffThreadUnavailable(`the tree candidate's worker failed: ${err.message}`))),
    );
    worker.on('exit', (code) =>
      settle(() =>
        reject(new OffThreadUnavailable(`the tree candidate's worker ended (exit ${code}) without a result`)),
      ),
    );
  });
}
