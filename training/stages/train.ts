/**
 * Stage `train`: fit every candidate of params.yaml (grid expanded) on the train split, pick the
 * best by the primary metric on validation, and write the model bundle to `artifacts/model/`.
 * Every candidate is appended to the experiment log `metrics/experiments.json` (kept in git).
 */
import { join } from 'node:path';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { readParquetTable } from '../../core/data/parquet.ts';
import { encodeFeatures, encodeTarget, type FeatureSpec } from '../../core/model/features.ts';
import { profileNumeric, type ReferenceProfile } from '../../core/model/profile.ts';
import { bestF1Threshold, classificationMetrics, regressionMetrics } from '../../core/model/quality-metrics.ts';
import { multiclassMetrics } from '../../core/model/multiclass-metrics.ts';
import {
  calibrateAll,
  chooseCalibration,
  expectedCalibrationError,
  type Calibration,
} from '../../core/model/calibration.ts';
import { quantileSorted } from '../../core/model/features.ts';
import {
  outputsFromModel,
  saveBundle,
  BUNDLE_FORMAT,
  type BundleModel,
  type GoldenExample,
} from '../../core/model/bundle.ts';
import type { BundleMeta } from '../../core/schemas/bundle-meta.ts';
import { recordAt, recordsToTable, type InputSchema } from '../../core/data/records.ts';
import type { Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import { FEATURE_SPEC_FILE, MODEL_DIR, PREPARED_DIR, PROFILE_FILE } from '../contracts/paths.ts';
import { trainStage } from '../contracts/train.ts';
import type { StageParams } from '../contracts/contract.ts';
import {
  expandCandidates,
  fitCandidate,
  refitOnRecent,
  isBetter,
  HIGHER_IS_BETTER,
  type PrimaryMetric,
} from '../fit.ts';
import { dataMd5, gitCommit } from '../lineage.ts';
import { isMain, runStage } from '../stage-cli.ts';
import { tryReadMetrics, valueOf, type MetricsFile, writeMetricsFile } from '../../core/schemas/metrics-files.ts';
import { readArtifactFileAt } from '../../core/model/artifact-files.ts';
import { fitGbdt, refitTreesOnAll, type GbdtFit } from '../gbdt/fit-gbdt.ts';
import { isTreeModel } from '../../core/model/trees.ts';
import { balancedClassWeights, finishMulticlass, multiclassGolden, profilePerClass } from '../train-multiclass.ts';

export { EXPERIMENTS_FILE, MODEL_DIR, TRAIN_METRICS } from '../contracts/paths.ts';

/** One candidate's run in metrics/experiments.json (its schema: core/schemas/metrics-files.ts). */
export type ExperimentRun = MetricsFile<'experiments'>['runs'][number];
/** A run this stage has just made: every measurement present. */
type NewRun = ExperimentRun & {
  epochs: number;
  best_epoch: number;
  duration_s: number;
  backend: string;
  rows_train: number;
  rows_per_s: number;
};

const round = (x: number, d = 6) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

function roundAll(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [
      k,
      typeof v === 'number' ? round(v) : v && typeof v === 'object' ? roundAll(v as Record<string, unknown>) : v,
    ]),
  );
}

export function validationMetrics(
  task: 'classification' | 'regression',
  y: Float32Array,
  p: Float32Array,
  classes?: readonly string[],
): { metrics: Record<string, unknown>; threshold?: number } {
  if (task === 'regression') return { metrics: roundAll(regressionMetrics(y, p)) };
  if (classes) return { metrics: roundAll(multiclassMetrics(y, p, classes)) };
  const { threshold } = bestF1Threshold(y, p);
  return {
    metrics: roundAll({ ...classificationMetrics(y, p, threshold), ece: expectedCalibrationError(y, p) }),
    threshold,
  };
}

export const RESIDUAL_QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95];

/**
 * What the winner's validation scores become in the bundle. Classification: the calibration
 * (Platt or isotonic by cross-fitted validation log loss), and the threshold chosen by F1 on the
 * calibrated scores. Regression: quantiles of the validation residuals (actual − predicted).
 */
export function finishWinner(
  task: 'classification' | 'regression',
  y: Float32Array,
  raw: Float32Array,
  classes?: readonly string[],
): {
  scores: Float32Array;
  metrics: Record<string, unknown>;
  threshold?: number;
  calibration?: Calibration;
  calibration_fit?: Record<string, unknown>;
  residual_quantiles?: Record<string, number>;
} {
  if (task === 'regression') {
    const residuals = Float64Array.from(y, (v, i) => v - raw[i]).sort();
    const residual_quantiles = Object.fromEntries(
      RESIDUAL_QUANTILES.map((q) => [`q${Math.round(q * 100)}`, round(quantileSorted(residuals, q), 4)!]),
    );
    return { scores: raw, ...validationMetrics(task, y, raw), residual_quantiles };
  }
  if (classes)
    return finishMulticlass(y, raw, classes, (p) => validationMetrics(task, y, p, classes).metrics, roundAll);
  const choice = chooseCalibration(raw, y);
  const scores = calibrateAll(choice.calibration, raw);
  const { metrics, threshold } = validationMetrics(task, y, scores);
  const calibration_fit = roundAll({
    method: choice.calibration.method,
    cross_fitted_log_loss: choice.validation_log_loss,
    ece_uncalibrated: expectedCalibrationError(y, raw),
    ece_calibrated: expectedCalibrationError(y, scores),
  });
  return {
    scores,
    metrics,
    threshold,
    calibration: choice.calibration,
    calibration_fit,
    residual_quantiles: undefined,
  };
}

/**
 * train.recent_refit for the winner (training/fit.ts refitOnRecent). Regression only: its
 * validation metrics and residual quantiles were taken before, on rows the model had not seen.
 * Classification keeps the model validation calibrated, since a calibration fitted on rows the
 * model has just learned would be fitted in-sample (README "Model quality" has the measurement).
 */
async function refitWinner(
  tf: Parameters<typeof refitOnRecent>[0],
  winner: {
    model: Parameters<typeof refitOnRecent>[1];
    cfg: Parameters<typeof refitOnRecent>[2];
    rows: Parameters<typeof refitOnRecent>[3];
  },
  o: Omit<Parameters<typeof refitOnRecent>[4], 'epochs' | 'learningRateFactor'> & {
    task: 'classification' | 'regression';
    refit?: { epochs: number; learning_rate_factor: number };
    log: Logger;
  },
) {
  const { model, cfg, rows } = winner;
  if (!o.refit || o.refit.epochs === 0 || o.task !== 'regression') return undefined;
  const t0 = performance.now();
  const done = await refitOnRecent(tf, model, cfg, rows, {
    ...o,
    epochs: o.refit.epochs,
    learningRateFactor: o.refit.learning_rate_factor,
  });
  if (!done) return undefined;
  const seconds = (performance.now() - t0) / 1000;
  o.log.info(
    `${cfg.name}: refit on the ${rows.y.length} validation rows (the latest before test), ${o.refit.epochs} epoch(s) at ${o.refit.learning_rate_factor} × its learning rate, loss ${done.losses.map((l) => l.toFixed(4)).join(', ')} (${seconds.toFixed(1)} s)`,
  );
  return {
    record: {
      epochs: o.refit.epochs,
      learning_rate_factor: o.refit.learning_rate_factor,
      rows: rows.y.length,
      seconds: round(seconds, 3)!,
    },
    predictions: done.predictions,
  };
}

/** train.recent_refit for a tree winner (regression only): boosting again on train + validation (training/gbdt/fit-gbdt.ts). */
function refitTreeWinner(
  cfg: Parameters<typeof refitTreesOnAll>[0],
  spec: FeatureSpec,
  tables: Parameters<typeof refitTreesOnAll>[2],
  iterations: number,
  o: Parameters<typeof refitTreesOnAll>[4] & {
    task: 'classification' | 'regression';
    refit?: { epochs: number; learning_rate_factor: number };
  },
) {
  if (!o.refit || o.refit.epochs === 0 || o.task !== 'regression') return undefined;
  const done = refitTreesOnAll(cfg, spec, tables, iterations, o);
  // One refit over every row at the candidate's own rate (the network's epochs and rate factor do not apply).
  const record = { epochs: 1, learning_rate_factor: 1, rows: done.rows, seconds: round(done.seconds, 3)! };
  return { record, predictions: done.predictions, model: done.model };
}

export function goldenExamples(
  tf: Parameters<typeof outputsFromModel>[0],
  model: Parameters<typeof outputsFromModel>[1],
  meta: Pick<BundleMeta, 'target_scaler' | 'input_schema'>,
  spec: FeatureSpec,
  test: Table,
  count: number,
): GoldenExample[] {
  const fields = Object.keys(meta.input_schema);
  const step = Math.max(1, Math.floor(test.length / count));
  const records = Array.from({ length: Math.min(count, test.length) }, (_, i) => recordAt(test, i * step, fields));
  // Expected outputs go through the same record → table path as serving.
  const { table, errors } = recordsToTable(records, meta.input_schema);
  const bad = errors.findIndex((e) => e.length);
  if (bad >= 0)
    throw new Error(
      `golden example ${bad} from the test split does not pass the input schema: ${errors[bad].map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  const out = outputsFromModel(tf, model, meta, spec, table);
  if (spec.target.classes) return multiclassGolden(records, out, spec.target.classes.length);
  return records.map((record, i) => ({ record, expected: out[i] }));
}

export async function train(options: {
  repoRoot: string;
  params: StageParams<typeof trainStage>;
  log: Logger;
  now?: () => Date;
}) {
  const { repoRoot, log } = options;
  const params = trainStage.params(options.params);
  const tp = params.train;
  if (!tp) throw new Error('params.yaml has no `train` section; add one (see the README) to train models');
  // Read the experiment log before training: a malformed one stops here, not after minutes of work.
  const previous = await readExperiments(repoRoot);
  const { tf, backend } = await selectBackend({ log });
  const dir = join(repoRoot, PREPARED_DIR);
  const spec: FeatureSpec = await readArtifactFileAt(join(dir, FEATURE_SPEC_FILE), 'featureSpec', 'prepare');
  const inputProfile: ReferenceProfile = await readArtifactFileAt(
    join(dir, PROFILE_FILE),
    'referenceProfile',
    'prepare',
  );
  const [trainT, valT, testT] = await Promise.all(
    ['train', 'validation', 'test'].map((s) => readParquetTable(join(dir, `${s}.parquet`))),
  );
  const task = params.task.type;
  const primary = tp.primary_metric;
  const classes = spec.target.classes;
  const data = {
    train: { enc: encodeFeatures(spec, trainT), y: encodeTarget(spec.target, trainT.columns[spec.target.column]) },
    validation: { enc: encodeFeatures(spec, valT), y: encodeTarget(spec.target, valT.columns[spec.target.column]) },
  };
  let classWeight: Record<number, number> | undefined;
  let targetScaler: { mean: number; std: number } | undefined;
  if (classes && tp.class_weight === 'balanced') classWeight = balancedClassWeights(data.train.y, classes);
  else if (task === 'classification' && tp.class_weight === 'balanced') {
    const n = data.train.y.length;
    const pos = data.train.y.reduce((s, v) => s + v, 0);
    if (pos === 0 || pos === n)
      throw new Error(
        `the train split has only one class (${pos} positives of ${n}); ingest more data or change task.positive_above`,
      );
    classWeight = { 0: n / (2 * (n - pos)), 1: n / (2 * pos) };
  }
  if (task === 'regression') {
    const y = data.train.y;
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const std = Math.sqrt(y.reduce((s, v) => s + (v - mean) ** 2, 0) / y.length) || 1;
    targetScaler = { mean, std };
  }
  const candidates = expandCandidates(tp.candidates);
  const now = options.now ?? (() => new Date());
  const runId = now().toISOString();
  const commit = gitCommit(repoRoot);
  const md5 = await dataMd5(repoRoot);
  log.info(`training ${candidates.length} candidate(s) on ${trainT.length} rows, selecting by validation ${primary}`, {
    backend,
    class_weight: classWeight ? JSON.stringify(roundAll(classWeight)) : 'none',
  });

  const runs: NewRun[] = [];
  let winner: { index: number; fit: Awaited<ReturnType<typeof fitCandidate>> | GbdtFit } | undefined;
  for (const [index, cfg] of candidates.entries()) {
    const fit =
      cfg.model === 'gbdt'
        ? fitGbdt(
            cfg,
            spec,
            { train: { ...data.train, table: trainT }, validation: { ...data.validation, table: valT } },
            { task, primary, seed: tp.seed, classWeight, targetScaler, classes: classes?.length, log },
          )
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
      run_id: runId,
      candidate: cfg.name,
      model: cfg.model,
      params: { ...cfg, batch_size: tp.batch_size, seed: tp.seed, class_weight: tp.class_weight },
      epochs: fit.epochs,
      best_epoch: fit.bestEpoch,
      duration_s: round(fit.durationS, 3)!,
      backend,
      rows_train: trainT.length,
      rows_per_s: Math.round(fit.rowsPerS),
      val: metrics,
      selected: false,
      git_commit: commit,
      data_md5: md5,
      time: runId,
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
  runs[winner.index].selected = true;
  const chosen = candidates[winner.index];
  const finished = finishWinner(task, data.validation.y, winner.fit.validationPredictions, classes);
  const winnerModel = winner.fit.model;
  const treeRefit = isTreeModel(winnerModel)
    ? refitTreeWinner(chosen, spec, { train: trainT, validation: valT }, winner.fit.bestEpoch, {
        task,
        refit: tp.recent_refit,
        seed: tp.seed,
        targetScaler,
        log,
      })
    : undefined;
  const refit = isTreeModel(winnerModel)
    ? treeRefit
    : await refitWinner(
        tf,
        { model: winnerModel, cfg: chosen, rows: data.validation },
        { task, batchSize: tp.batch_size, classWeight, targetScaler, seed: tp.seed, refit: tp.recent_refit, log },
      );
  if (finished.calibration)
    log.info(
      `calibration: ${finished.calibration.method} (validation log loss ${JSON.stringify(finished.calibration_fit?.cross_fitted_log_loss ?? finished.calibration_fit?.log_loss)})${finished.threshold !== undefined ? `; threshold ${finished.threshold.toFixed(4)} on calibrated scores` : ''}`,
    );

  const inputSchema = inputSchemaOf(spec, params.validate.schema);
  const meta: BundleMeta = {
    format_version: BUNDLE_FORMAT,
    name: params.register?.model_name ?? 'model',
    task,
    candidate: chosen.name,
    model_type: chosen.model,
    params: runs[winner.index].params,
    ...(classes ? { classes } : {}),
    ...(finished.threshold !== undefined ? { threshold: finished.threshold } : {}),
    ...(targetScaler ? { target_scaler: targetScaler } : {}),
    ...(finished.calibration ? { calibration: finished.calibration } : {}),
    ...(finished.residual_quantiles ? { residual_quantiles: finished.residual_quantiles } : {}),
    ...(refit ? { recent_refit: refit.record } : {}),
    metrics: {
      validation: finished.metrics,
      validation_uncalibrated: runs[winner.index].val,
      ...(finished.calibration_fit ? { calibration: finished.calibration_fit } : {}),
    },
    primary_metric: primary,
    data_md5: md5,
    git_commit: commit,
    created_at: runId,
    backend,
    input_schema: inputSchema,
    rows: { train: trainT.length, validation: valT.length, test: testT.length },
  };
  // A refitted tree ensemble is a new model; a refitted network changed its weights in place.
  const servedModel: BundleModel = treeRefit?.model ?? winner.fit.model;
  const golden = goldenExamples(tf, servedModel, meta, spec, testT, tp.golden_examples);
  // The prediction reference for drift is the served model's: after a refit, its predictions for the validation rows.
  const profile = classes
    ? { ...inputProfile, ...profilePerClass(finished.scores, classes, params.profile.bins) }
    : {
        ...inputProfile,
        predictions: profileNumeric(
          { type: 'number', values: Float64Array.from(refit?.predictions ?? finished.scores) },
          params.profile.bins,
        ),
      };
  await saveBundle(tf, join(repoRoot, MODEL_DIR), servedModel, { meta, spec, profile, golden });
  winner.fit.model.dispose();

  await writeMetricsFile(repoRoot, 'experiments', experimentsFile([...previous, ...runs], primary));
  const summary = {
    run_id: runId,
    backend,
    candidates: runs.length,
    selected: chosen.name,
    primary_metric: primary,
    higher_is_better: HIGHER_IS_BETTER[primary],
    [`validation_${primary}`]: round(winner.fit.bestValue),
    ...(finished.threshold !== undefined ? { threshold: round(finished.threshold) } : {}),
    ...(finished.calibration ? { calibration: finished.calibration.method } : {}),
    train_seconds: round(
      runs.reduce((s, r) => s + r.duration_s, 0),
      3,
    ),
  };
  await writeMetricsFile(repoRoot, 'train', summary);
  log.info(
    `selected ${chosen.name}: validation ${primary} ${winner.fit.bestValue.toFixed(4)}; bundle written to ${MODEL_DIR}/`,
  );
  return summary;
}

/**
 * The experiment log: every candidate ever trained under `runs` (a list, which `dvc metrics show`
 * does not display), plus flat summaries it does display: `latest` (each candidate of the newest
 * run, keyed by name) and `best` (the best validation value of the primary metric so far).
 */
export function experimentsFile(runs: ExperimentRun[], primary: PrimaryMetric) {
  const latestId = runs.at(-1)?.run_id;
  const summary = (r: ExperimentRun) => ({
    [primary]: (r.val[primary] as number | null) ?? null,
    epochs: r.epochs,
    duration_s: r.duration_s,
    rows_per_s: r.rows_per_s,
    selected: r.selected,
  });
  const latest = Object.fromEntries(runs.filter((r) => r.run_id === latestId).map((r) => [r.candidate, summary(r)]));
  let best: ExperimentRun | undefined;
  for (const r of runs) {
    const v = r.val[primary] as number | null | undefined;
    if (typeof v === 'number' && (!best || isBetter(primary, v, best.val[primary] as number))) best = r;
  }
  return {
    primary_metric: primary,
    latest: { run_id: latestId ?? null, candidates: latest },
    best: best ? { candidate: best.candidate, run_id: best.run_id, [primary]: best.val[primary] as number } : null,
    runs,
  };
}

/**
 * The fields a bundle accepts: each input column of the spec with its validate.schema rule. A
 * column whose every datetime part was left out (min_cycles) stays accepted, optional and unused,
 * so clients that send it are not refused by a model trained on a short period.
 */
export function inputSchemaOf(spec: FeatureSpec, schema: InputSchema): InputSchema {
  const fields = Object.fromEntries(
    spec.features.filter((f) => f.kind !== 'cross').map((f) => [f.name, schema[f.name]]),
  );
  for (const d of spec.dropped ?? []) {
    const column = d.feature.split('.')[0];
    if (!(column in fields) && schema[column]) fields[column] = { ...schema[column], required: false };
  }
  return fields;
}

/**
 * The runs logged so far (none before the first). The log is history that train appends to, so a
 * malformed one stops the stage naming the file and field, is never overwritten, and re-running
 * train cannot repair it: the message says to fix it or move it away.
 */
export async function readExperiments(repoRoot: string): Promise<ExperimentRun[]> {
  const read = await tryReadMetrics('experiments', {
    repo: repoRoot,
    fix: `fix it, or move it away to start a new experiment log (train appends to it; re-running train does not rewrite it)`,
  });
  if (!read.ok && read.problem.kind === 'missing') return [];
  return valueOf(read).runs;
}

if (isMain(import.meta.url)) {
  await runStage(trainStage, train);
}
