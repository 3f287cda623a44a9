/**
 * A speculative train.recent_refit of the tree candidate: started on its own worker thread when
 * the first fit starts, instead of after it. Boosting with fixed settings is sequential and its
 * trees do not depend on when it stops, so the refit boosts train + validation while the first fit
 * looks for its stopping point, and keeps exactly the count that fit then chooses (it goes on
 * boosting until it has them): the same trees as the refit after the fit (training/gbdt/fit-gbdt.ts
 * refitTreesOnAll; tested). It never grows a tree past the first fit's best iteration so far
 * (./refit-progress.ts), so no tree is boosted in vain; it sleeps when it catches up, leaving the
 * core to the others. When a network wins, the refit is dropped.
 *
 * On two cores this overlaps the refit (8–9 s of the quick default's ~21 s train stage when it ran
 * last) with the network and the first fit, which are mostly one thread's work each.
 */
import type { Worker } from 'node:worker_threads';
import type { FeatureSpec } from '../../core/model/features.ts';
import type { Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import { treeModel, type TreeModel } from '../../core/model/trees.ts';
import type { GbdtConfig, refitTreesOnAll } from '../gbdt/fit-gbdt.ts';
import { isSmall } from '../gbdt/defaults.ts';
import { round } from './experiments.ts';
import { inWorker, OffThreadUnavailable } from './gbdt-off-thread.ts';
import { tellCount } from './refit-progress.ts';

type RefitOptions = Omit<Parameters<typeof refitTreesOnAll>[4], 'log'> & { task: 'classification' | 'regression' };

/** What refitTreeWinner (./winner.ts) returns, so the train stage uses either alike. */
export interface TreeRefit {
  record: { epochs: number; learning_rate_factor: number; rows: number; seconds: number; iterations: number };
  predictions: Float32Array | undefined;
  model: TreeModel;
}

export interface SpeculativeRefit {
  /** The index of the tree candidate it refits, in the train stage's candidates. */
  index: number;
  /** Tells the refit the first fit's count and waits for it; undefined when its worker could not run (refit here). */
  finish(iterations: number, log: Logger): Promise<TreeRefit | undefined>;
  /** Not wanted (a network won, or the stage failed): the worker stops. Idempotent. */
  cancel(): void;
}

/**
 * Whether to start the refit beside the first fit: a core to spare (the trees went to a worker,
 * or two cores and a load below their count: ./gbdt-off-thread.ts spareCore), one tree candidate
 * (a grid of trees would need one refit each), no screening (the winner is fitted again on all
 * rows first), the refit on, and a table not small (there the count comes from cross-validation
 * after the fit, ./winner.ts). TRAIN_SPECULATIVE_REFIT=0 turns it off, =1 needs no spare core.
 */
export function speculateRefit(
  o: { trees: number; spare: boolean; screening: boolean; refitEpochs: number; rows: number },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.TRAIN_SPECULATIVE_REFIT === '0') return false;
  return (
    (o.spare || env.TRAIN_SPECULATIVE_REFIT === '1') &&
    o.trees === 1 &&
    !o.screening &&
    o.refitEpochs > 0 &&
    !isSmall(o.rows)
  );
}

/**
 * Starts the refit; `progress` (./refit-progress.ts newProgress) must also go to the first fit
 * (fitGbdtOffThread's `progress`), which tells it each best iteration.
 */
export function startRefitOffThread(
  progress: Int32Array,
  index: number,
  cfg: GbdtConfig,
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  o: RefitOptions & { log: Logger; oneThread?: boolean },
): SpeculativeRefit {
  const { log, oneThread = false, ...options } = o;
  const stop = new AbortController();
  let worker: Worker | undefined;
  const levels = (['debug', 'info', 'warn', 'error'] as const).filter((l) => log.enabled(l));
  const started = performance.now();
  // Beside a fit on another worker (three training threads on the cores) the refit boosts on one
  // thread until the fits are done, then on its engine's threads for the trees it has left: on
  // all flights a second thread from the start cost more CPU than it gained (train stage 216–228 s
  // against 200 s, docs/model-quality.md), and one thread alone left a core idle for the last
  // ~30 s. GBDT_THREADS set: its threads from the start.
  const shareAfterCount = oneThread && !process.env.GBDT_THREADS;
  const result = inWorker(
    { kind: 'refit', cfg, spec, tables, options: { ...options, shareAfterCount }, progress, levels },
    log,
    stop.signal,
    (m) => {
      if (m.type !== 'refitted') throw new Error(`the refit's worker answered ${m.type}, not its refit`);
      return { ...m.refit, model: treeModel(m.trees) };
    },
    (w) => {
      // Until its count is asked for, the refit must not keep a failing stage's process alive.
      worker = w;
      w.unref();
    },
    false,
  );
  // Seen by finish(); a refit cancelled or never asked for must not be an unhandled rejection.
  result.catch(() => undefined);
  return {
    index,
    async finish(iterations, finishLog) {
      const asked = performance.now();
      worker?.ref();
      tellCount(progress, iterations);
      let done;
      try {
        done = await result;
      } catch (err) {
        if (!(err instanceof OffThreadUnavailable)) throw err;
        finishLog.warn(`${err.message}; refitting ${cfg.name} on the main thread`);
        return undefined;
      }
      finishLog.info(
        `${cfg.name}: the refit started beside the first fit took ${done.seconds.toFixed(1)} s; ${((performance.now() - asked) / 1000).toFixed(1)} s of it after the first fit (${((asked - started) / 1000).toFixed(1)} s after the start)`,
      );
      return {
        record: { epochs: 1, learning_rate_factor: 1, rows: done.rows, seconds: round(done.seconds, 3)!, iterations },
        predictions: options.task === 'regression' ? done.predictions : undefined,
        model: done.model,
      };
    },
    cancel() {
      stop.abort(new Error(`the speculative refit of ${cfg.name} was cancelled`));
    },
  };
}
