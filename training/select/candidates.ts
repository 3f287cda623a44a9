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
import { fitGbdt, type GbdtFit } from '../gbdt/fit-gbdt.ts';
import { balancedClassWeights } from '../train-multiclass.ts';
import { round, type NewRun } from './experiments.ts';
import { validationMetrics } from './winner.ts';

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

/** Fits every candidate and returns the experiment-log runs (none selected yet) and the winner's fit. */
export async function fitCandidates(
  tf: Parameters<typeof fitCandidate>[0],
  candidates: CandidateConfig[],
  spec: FeatureSpec,
  data: { train: SplitRows; validation: SplitRows },
  o: {
    task: Task;
    primary: PrimaryMetric;
    tp: TrainParams;
    classes?: readonly string[];
    classWeight?: Record<number, number>;
    targetScaler?: { mean: number; std: number };
    backend: string;
    run: Pick<NewRun, 'run_id' | 'git_commit' | 'data_md5'>;
    log: Logger;
  },
): Promise<{ runs: NewRun[]; winner: { index: number; fit: CandidateFit } }> {
  const { task, primary, tp, classes, classWeight, targetScaler, log } = o;
  const runs: NewRun[] = [];
  let winner: { index: number; fit: CandidateFit } | undefined;
  for (const [index, cfg] of candidates.entries()) {
    const fit =
      cfg.model === 'gbdt'
        ? fitGbdt(cfg, spec, data, {
            task,
            primary,
            seed: tp.seed,
            classWeight,
            targetScaler,
            classes: classes?.length,
            log,
          })
        : await fitCandidate(tf, cfg, data, {
            task,
            primary,
            seed: tp.seed,
            maxEpochs: tp.max_epochs,
            patience: tp.patience,
            batchSize: tp.batch_size,
            classWeight,
            targetScaler,
            classes: classes?.length,
            log,
          });
    const { metrics } = validationMetrics(task, data.validation.y, fit.validationPredictions, classes);
    runs.push({
      run_id: o.run.run_id,
      candidate: cfg.name,
      model: cfg.model,
      params: { ...cfg, batch_size: tp.batch_size, seed: tp.seed, class_weight: tp.class_weight },
      epochs: fit.epochs,
      best_epoch: fit.bestEpoch,
      duration_s: round(fit.durationS, 3)!,
      backend: o.backend,
      rows_train: data.train.y.length,
      rows_per_s: Math.round(fit.rowsPerS),
      val: metrics,
      selected: false,
      git_commit: o.run.git_commit,
      data_md5: o.run.data_md5,
      time: o.run.run_id,
    });
    log.info(
      `${cfg.name}: validation ${primary} ${fit.bestValue.toFixed(4)} at epoch ${fit.bestEpoch} (${fit.durationS.toFixed(1)} s, ${Math.round(fit.rowsPerS)} rows/s)`,
    );
    if (!winner || isBetter(primary, fit.bestValue, winner.fit.bestValue)) {
      winner?.fit.model.dispose();
      winner = { index, fit };
    } else fit.model.dispose();
  }
  if (!winner || !Number.isFinite(winner.fit.bestValue))
    throw new Error(`no candidate produced a finite validation ${primary}; check the data and learning rates`);
  return { runs, winner };
}
