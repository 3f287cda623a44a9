/**
 * The candidate loop of the train stage: the target's class weights or scale, then every
 * candidate fitted on train and scored on validation, one experiment-log run each; the best by
 * the primary metric is kept, the others are disposed as soon as they lose.
 */
import type { EncodedFeatures, FeatureSpec } from '../../core/model/features.ts';
import type { Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import type { Params } from '../../core/schemas/params.ts';
import type { CandidateConfig } from '../../core/model/network.ts';
import { fitCandidate, isBetter, type PrimaryMetric } from '../fit.ts';
import { boostParams, fitGbdt, type GbdtFit } from '../gbdt/fit-gbdt.ts';
import { balancedClassWeights } from '../train-multiclass.ts';
import { round, type NewRun } from './experiments.ts';
import { validationMetrics } from './winner.ts';
import { screeningSample } from './screening.ts';
import type { TrainStream } from '../stream-epochs.ts';
import {
  fitGbdtOffThread,
  fitTreesOffThread,
  OffThreadUnavailable,
  spareCore,
  trainingLoad,
  typedArrayBytes,
} from './gbdt-off-thread.ts';
import { speculateRefit, startRefitOffThread, type SpeculativeRefit } from './refit-off-thread.ts';
import { newProgress, tellBest } from './refit-progress.ts';
import { newBoard, post, rivalBest } from '../prune.ts';

type Task = 'classification' | 'regression';
type TrainParams = NonNullable<Params['train']>;
export type CandidateFit = Awaited<ReturnType<typeof fitCandidate>> | GbdtFit;
export interface SplitRows {
  enc: EncodedFeatures;
  y: Float32Array;
  table: Table;
}

/**
 * Class weights (train.class_weight: balanced) so each class weighs the same in the loss, and
 * the regression target's mean and spread, which networks train in units of.
 */
export function targetWeighting(
  task: Task,
  classes: readonly string[] | undefined,
  classWeightParam: TrainParams['class_weight'],
  y: Float32Array,
): { classWeight?: Record<number, number>; targetScaler?: { mean: number; std: number } } {
  let classWeight: Record<number, number> | undefined;
  let targetScaler: { mean: number; std: number } | undefined;
  if (classes && classWeightParam === 'balanced') classWeight = balancedClassWeights(y, classes);
  else if (task === 'classification' && classWeightParam === 'balanced') {
    const n = y.length;
    const pos = y.reduce((s, v) => s + v, 0);
    if (pos === 0 || pos === n)
      throw new Error(
        `the train split has only one class (${pos} positives of ${n}); ingest more data or change task.positive_above`,
      );
    classWeight = { 0: n / (2 * (n - pos)), 1: n / (2 * pos) };
  }
  if (task === 'regression') {
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const std = Math.sqrt(y.reduce((s, v) => s + (v - mean) ** 2, 0) / y.length) || 1;
    targetScaler = { mean, std };
  }
  return { classWeight, targetScaler };
}

/**
 * Fits every candidate and returns the experiment-log runs (none selected yet) and the winner's
 * fit. With train.screening and a training split above its max_rows, the candidates fit a seeded
 * sample (./screening.ts) and the winner is fitted again on every row; each run records the rows
 * it saw (`rows_train`, `screening`).
 */
export async function fitCandidates(
  tf: Parameters<typeof fitCandidate>[0],
  candidates: CandidateConfig[],
  spec: FeatureSpec,
  data: { train: SplitRows; validation: SplitRows; stream?: TrainStream },
  o: {
    task: Task;
    primary: PrimaryMetric;
    tp: TrainParams;
    classes?: readonly string[];
    classWeight?: Record<number, number>;
    targetScaler?: { mean: number; std: number };
    backend: string;
    run: Pick<NewRun, 'run_id' | 'git_commit' | 'data_md5' | 'model_name' | 'target'>;
    log: Logger;
    /** Keep every fit (returned as `fits`, in candidate order) rather than disposing the losers: a blend serves them all. */
    keepAll?: boolean;
  },
): Promise<{
  runs: NewRun[];
  winner: { index: number; fit: CandidateFit };
  refit?: SpeculativeRefit;
  fits?: CandidateFit[];
}> {
  const { task, primary, tp, classes, classWeight, targetScaler, log } = o;
  const common = { task, primary, seed: tp.seed, classWeight, targetScaler, classes: classes?.length, log };
  // train.prune: each candidate's best validation value so far, posted by trees on a worker and by
  // finished networks; a network stops once it is out of reach (training/prune.ts). A blend keeps
  // every candidate, so none is stopped there.
  const board = tp.prune && !o.keepAll ? newBoard() : undefined;
  /** `onBest`: a speculative refit of this tree candidate follows its best iteration (./refit-progress.ts). */
  const fitOn = async (
    cfg: CandidateConfig,
    train: SplitRows,
    onBest?: (iteration: number) => void,
  ): Promise<CandidateFit> => {
    const rows = { train, validation: data.validation };
    if (cfg.model === 'gbdt') return fitGbdt(cfg, spec, rows, { ...common, onBest });
    // The networks stream every row of a split above train.max_rows; a screening sample is not streamed.
    const streamed = data.stream && train === data.train ? { ...rows, stream: data.stream } : rows;
    const fit = await fitCandidate(tf, cfg, streamed, {
      ...common,
      maxEpochs: tp.max_epochs,
      patience: tp.patience,
      batchSize: tp.batch_size,
      ...(board ? { rival: () => rivalBest(board) } : {}),
    });
    if (board) post(board, primary, fit.bestValue);
    return fit;
  };
  /**
   * The settings the fit used, as the experiment log and the report show them: a tree's
   * min_samples_leaf as capped by its rows, a batch size for networks only, class weights for
   * classifiers only.
   */
  const usedParams = (cfg: CandidateConfig, rowsTrain: number): Record<string, unknown> => ({
    ...cfg,
    ...(cfg.model === 'gbdt'
      ? { min_samples_leaf: boostParams(cfg, rowsTrain).minSamplesLeaf }
      : { batch_size: tp.batch_size }),
    seed: tp.seed,
    ...(task === 'classification' ? { class_weight: tp.class_weight } : {}),
  });
  const runOf = (cfg: CandidateConfig, fit: CandidateFit, rowsTrain: number): NewRun => ({
    run_id: o.run.run_id,
    candidate: cfg.name,
    model: cfg.model,
    params: usedParams(cfg, rowsTrain),
    epochs: fit.epochs,
    best_epoch: fit.bestEpoch,
    duration_s: round(fit.durationS, 3)!,
    backend: o.backend,
    rows_train: 'rowsTrain' in fit ? fit.rowsTrain : rowsTrain,
    rows_per_s: Math.round(fit.rowsPerS),
    ...('pruned' in fit && fit.pruned ? { pruned: { ...fit.pruned } } : {}),
    val: validationMetrics(task, data.validation.y, fit.validationPredictions, classes).metrics,
    selected: false,
    git_commit: o.run.git_commit,
    data_md5: o.run.data_md5,
    time: o.run.run_id,
    model_name: o.run.model_name,
    target: o.run.target,
  });
  /** A tree candidate whose worker could not run it is fitted here, after the networks. */
  const onThisThread = (index: number, train: SplitRows, log: Logger) => (err: unknown) => {
    if (!(err instanceof OffThreadUnavailable)) throw err;
    const cfg = candidates[index];
    log.warn(`${err.message}; fitting ${cfg.name} on the main thread`);
    return fitOn(cfg, train, bestOf(index));
  };
  // With one candidate there is nothing to choose: a screening fit would only be thrown away.
  const screen =
    candidates.length > 1 ? screeningSample(spec, data.train.table, tp.screening?.max_rows, tp.seed) : undefined;
  if (screen)
    log.info(
      `screening: every candidate fits the same seeded sample of ${screen.record.sample_rows} of the ${screen.record.of_rows} training rows; the best on validation is then fitted on all of them (train.screening.max_rows)`,
    );
  const runs: NewRun[] = [];
  let winner: { index: number; fit: CandidateFit } | undefined;
  const train = screen?.rows ?? data.train;
  const stop = new AbortController();
  // Shared with a speculative refit of the trees (./refit-off-thread.ts), when one starts below.
  const progress = newProgress();
  const copyBytes = typedArrayBytes(train) + typedArrayBytes(data.validation);
  // Sampled only when it decides something: a tree candidate to move or refit, no TRAIN_PARALLEL.
  const decided = process.env.TRAIN_PARALLEL === '0' || process.env.TRAIN_PARALLEL === '1';
  const load = decided || !candidates.some((c) => c.model === 'gbdt') ? 0 : await trainingLoad();
  const offThread = fitTreesOffThread(
    candidates.map((c) => c.model ?? 'mlp'),
    copyBytes,
    load,
  )
    ? treesOffThread(candidates, (cfg) =>
        fitGbdtOffThread(
          cfg,
          spec,
          { train, validation: data.validation },
          { ...common, signal: stop.signal, progress, board },
        ),
      )
    : new Map<number, Promise<CandidateFit>>();
  if (offThread.size)
    log.info(
      `fitting ${[...offThread.keys()].map((i) => candidates[i].name).join(', ')} on a worker thread while the other candidates train here, its rows copied (${Math.round(copyBytes / 2 ** 20)} MB; load ${load.toFixed(1)}; TRAIN_PARALLEL=0: one after another)`,
    );
  const refitRows = data.train.y.length + data.validation.y.length;
  const refitEpochs = tp.recent_refit?.epochs ?? 0;
  const trees = candidates.flatMap((c, i) => (c.model === 'gbdt' ? [i] : []));
  const [treeIndex] = trees;
  const spare = offThread.size > 0 || spareCore(load);
  let refit = speculateRefit({ trees: trees.length, spare, screening: !!screen, refitEpochs, rows: refitRows })
    ? startRefitOffThread(
        progress,
        treeIndex,
        candidates[treeIndex],
        spec,
        { train: data.train.table, validation: data.validation.table },
        // With the first fit on a worker too, three training threads share the cores.
        {
          task,
          seed: tp.seed,
          classes: classes?.length,
          classWeight,
          targetScaler,
          log,
          oneThread: offThread.size > 0,
        },
      )
    : undefined;
  const bestOf = (index: number) =>
    refit?.index === index ? (iteration: number) => tellBest(progress, iteration) : undefined;
  if (refit)
    log.info(
      `refitting ${candidates[treeIndex].name} on train + validation on another worker from now on, kept to the iteration count its fit chooses (TRAIN_SPECULATIVE_REFIT=0: after the fit)`,
    );
  // This thread's candidates (the networks) first, so they train while the trees boost.
  const fits: CandidateFit[] = [];
  try {
    for (const [index, cfg] of candidates.entries())
      if (!offThread.has(index)) fits[index] = await fitOn(cfg, train, bestOf(index));
    for (const [index, fit] of offThread) fits[index] = await fit.catch(onThisThread(index, train, log));
  } catch (err) {
    refit?.cancel();
    stop.abort(err);
    for (const fit of fits) fit?.model.dispose();
    throw err;
  }
  for (const [index, cfg] of candidates.entries()) {
    const fit = fits[index];
    runs.push({ ...runOf(cfg, fit, train.y.length), ...(screen ? { screening: { ...screen.record } } : {}) });
    log.info(
      `${cfg.name}: validation ${primary} ${fit.bestValue.toFixed(4)} at epoch ${fit.bestEpoch} (${fit.durationS.toFixed(1)} s, ${Math.round(fit.rowsPerS)} rows/s${screen ? `, ${train.y.length} sampled rows` : ''})`,
    );
    if (!winner || isBetter(primary, fit.bestValue, winner.fit.bestValue)) {
      if (!o.keepAll) winner?.fit.model.dispose();
      winner = { index, fit };
    } else if (!o.keepAll) fit.model.dispose();
  }
  // A blend keeps every candidate: the tree refit serves as its member's, whichever won.
  if (refit && refit.index !== winner?.index && !o.keepAll) {
    refit.cancel();
    refit = undefined;
  }
  if (!winner || !Number.isFinite(winner.fit.bestValue))
    throw new Error(`no candidate produced a finite validation ${primary}; check the data and learning rates`);
  if (screen) {
    const cfg = candidates[winner.index];
    const screened = winner.fit;
    screened.model.dispose();
    log.info(`screening chose ${cfg.name}; fitting it on all ${data.train.y.length} training rows`);
    const fit = await fitOn(cfg, data.train);
    // The run now describes the full fit; what the sample gave stays beside it under `screening`.
    runs[winner.index] = {
      ...runOf(cfg, fit, data.train.y.length),
      screening: {
        ...screen.record,
        [`validation_${primary}`]: round(screened.bestValue),
        duration_s: round(screened.durationS, 3)!,
      },
    };
    log.info(
      `${cfg.name} on all rows: validation ${primary} ${fit.bestValue.toFixed(4)} at epoch ${fit.bestEpoch} (${fit.durationS.toFixed(1)} s; on the sample ${screened.bestValue.toFixed(4)})`,
    );
    if (!Number.isFinite(fit.bestValue))
      throw new Error(
        `${cfg.name} produced no finite validation ${primary} on all training rows; check the data and its learning rate`,
      );
    winner = { index: winner.index, fit };
  }
  return { runs, winner, refit, ...(o.keepAll ? { fits } : {}) };
}

/**
 * The tree candidates' fits, started now on worker threads one after another (the index of each
 * in `candidates` → its fit). A failure is kept for when the loop reaches that candidate.
 */
function treesOffThread(
  candidates: CandidateConfig[],
  fit: (cfg: CandidateConfig) => Promise<CandidateFit>,
): Map<number, Promise<CandidateFit>> {
  const out = new Map<number, Promise<CandidateFit>>();
  let previous: Promise<unknown> = Promise.resolve();
  for (const [index, cfg] of candidates.entries()) {
    if (cfg.model !== 'gbdt') continue;
    const next = previous.then(() => fit(cfg));
    // Settled either way before the next starts; awaited (and its error seen) by the loop.
    next.catch(() => undefined);
    previous = next.catch(() => undefined);
    out.set(index, next);
  }
  return out;
}
