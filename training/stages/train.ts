/**
 * Stage `train`: fit every candidate of params.yaml (grid expanded) on the train split, pick the
 * best by the primary metric on validation, and write the model bundle to `artifacts/model/`.
 * Every candidate is appended to the experiment log `metrics/experiments.json` (kept in git).
 * The parts live in training/select/: the candidate loop, the winner's finishing and refit, the
 * experiment log, the bundle's input schema and golden examples.
 */
import { join } from 'node:path';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { encodeFeatures, encodeTarget, type FeatureSpec } from '../../core/model/features.ts';
import { profileNumeric, type ReferenceProfile } from '../../core/model/profile.ts';
import { saveBundle, BUNDLE_FORMAT, type BundleModel } from '../../core/model/bundle.ts';
import type { BundleMeta } from '../../core/schemas/bundle-meta.ts';
import type { Logger } from '../../core/platform/log.ts';
import { FEATURE_SPEC_FILE, MODEL_DIR, PREPARED_DIR, PROFILE_FILE } from '../contracts/paths.ts';
import { trainStage } from '../contracts/train.ts';
import type { StageParams } from '../contracts/contract.ts';
import type { Params } from '../../core/schemas/params.ts';
import { expandCandidates, HIGHER_IS_BETTER } from '../fit.ts';
import { dataMd5, gitCommit } from '../lineage.ts';
import { isMain, runStage } from '../stage-cli.ts';
import { writeMetricsFile } from '../../core/schemas/metrics-files.ts';
import { readArtifactFileAt } from '../../core/model/artifact-files.ts';
import { isTreeModel } from '../../core/model/trees.ts';
import { profilePerClass } from '../train-multiclass.ts';
import { experimentsFile, readExperiments, round, roundAll } from '../select/experiments.ts';
import { fitCandidates, targetWeighting } from '../select/candidates.ts';
import { finishWinner, refitTreeReference, refitTreeWinner, refitWinner, treeRefitOptions } from '../select/winner.ts';
import { blendFits, blendWeighting, validationBlend } from '../select/blend.ts';
import { goldenExamples, inputSchemaOf } from '../select/golden.ts';
import { readSampledRows, readSpacedRows } from '../split-rows.ts';
import { openTrainStream, readTargetColumn, STREAM_BUFFER_GROUPS } from '../stream-epochs.ts';

export { EXPERIMENTS_FILE, MODEL_DIR, TRAIN_METRICS } from '../contracts/paths.ts';
// What other modules and tests import from the stage (the code lives in training/select/).
export { experimentsFile, readExperiments, type ExperimentRun } from '../select/experiments.ts';
export { finishWinner, validationMetrics, RESIDUAL_QUANTILES } from '../select/winner.ts';
export { goldenExamples, inputSchemaOf } from '../select/golden.ts';

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
  // Bounded reads (training/split-rows.ts): at most train.max_rows / max_validation_rows evenly
  // spaced rows, and of test only the golden examples' rows, so memory does not grow with the table.
  const trainRead = await readSampledRows(join(dir, 'train.parquet'), tp.max_rows);
  const valRead = await readSampledRows(join(dir, 'validation.parquet'), tp.max_validation_rows);
  const testRead = await readSpacedRows(join(dir, 'test.parquet'), tp.golden_examples);
  const [trainT, valT] = [trainRead.table, valRead.table];
  for (const [split, read, param] of [
    ['train', trainRead, 'max_rows'],
    ['validation', valRead, 'max_validation_rows'],
  ] as const)
    if (read.table.length < read.of)
      log.info(
        `${split}: training reads ${read.table.length} evenly spaced rows of ${read.of} (train.${param}; raise it on a machine with more memory, docs/scale.md)`,
      );
  const task = params.task.type;
  const primary = tp.primary_metric;
  const classes = spec.target.classes;
  const rowsOf = (table: typeof trainT) => ({
    enc: encodeFeatures(spec, table),
    y: encodeTarget(spec.target, table.columns[spec.target.column]),
    table,
  });
  // Above train.max_rows the networks stream every training row (training/stream-epochs.ts); the
  // trees keep the sample. Class weights and the target scaler then come from the whole split's target.
  const trainPath = join(dir, 'train.parquet');
  const stream = trainRead.of > trainT.length ? await openTrainStream(trainPath, spec) : undefined;
  const data = { train: rowsOf(trainT), validation: rowsOf(valT), ...(stream ? { stream } : {}) };
  const { classWeight, targetScaler } = targetWeighting(
    task,
    classes,
    tp.class_weight,
    // Not kept: 4 bytes a row of the whole split, garbage once weighed.
    stream ? await readTargetColumn(trainPath, spec) : data.train.y,
  );
  if (stream)
    log.info(
      `train: the network candidates stream all ${stream.rows} rows each epoch (${stream.groups} row groups, ${STREAM_BUFFER_GROUPS} at a time); the trees fit the ${trainT.length} evenly spaced rows`,
    );
  const candidates = expandCandidates(tp.candidates);
  const now = options.now ?? (() => new Date());
  const runId = now().toISOString();
  const commit = gitCommit(repoRoot);
  const md5 = await dataMd5(repoRoot);
  log.info(`training ${candidates.length} candidate(s) on ${trainT.length} rows, selecting by validation ${primary}`, {
    backend,
    class_weight: classWeight ? JSON.stringify(roundAll(classWeight)) : 'none',
  });

  const blending = blendWeighting(tp, task, candidates.length, {
    train: trainT.length,
    validation: valT.length,
    trainSplit: trainRead.of,
    validationSplit: valRead.of,
  });
  const fitOptions = { task, primary, tp, classes, classWeight, targetScaler, log };
  const {
    runs,
    winner,
    refit: speculative,
    fits,
  } = await fitCandidates(tf, candidates, spec, data, {
    ...fitOptions,
    backend,
    run: {
      run_id: runId,
      git_commit: commit,
      data_md5: md5,
      model_name: params.register?.model_name ?? null,
      target: params.task.target,
    },
    keepAll: blending !== undefined,
  });
  // A candidate without a finite validation value (diverged) would spoil every output of the mean: the winner alone is served.
  const diverged = fits?.flatMap((f, i) => (Number.isFinite(f.bestValue) ? [] : [candidates[i].name])) ?? [];
  // train.validation_blend: the weights first (validation outputs, before any refit); one member above 0 is no blend.
  const preset =
    fits && !diverged.length && blending === 'validation'
      ? validationBlend(
          data.validation.y,
          fits.map((f) => f.validationPredictions),
          fitOptions,
        )
      : undefined;
  const single = preset && preset.weights.filter((w) => w > 0).length < 2;
  if (fits && (diverged.length || single)) {
    if (diverged.length)
      log.warn(
        `train.blend: ${diverged.join(', ')} gave no finite validation ${primary}; serving ${candidates[winner.index].name} alone`,
      );
    else
      log.info(
        `train.validation_blend: no mix beats the best candidate alone on validation (${preset?.record.loss} ${preset?.record.member_loss.join(' / ')}); serving ${candidates[winner.index].name} alone`,
      );
    fits.forEach((f, i) => i !== winner.index && f.model.dispose());
    // A speculative refit of a tree candidate that lost (kept for the blend) is not wanted alone.
    if (speculative && speculative.index !== winner.index) speculative.cancel();
  }
  const blend =
    fits && !diverged.length && !single
      ? await blendFits(tf, candidates, fits, spec, data, { ...fitOptions, preset, speculative })
      : undefined;
  for (const [i, run] of runs.entries()) run.selected = blend ? blend.indices.includes(i) : i === winner.index;
  const chosen = candidates[winner.index];
  const finished = blend?.finished ?? finishWinner(task, data.validation.y, winner.fit.validationPredictions, classes);
  const winnerModel = winner.fit.model;
  // A refit started beside the first fit (training/select/refit-off-thread.ts) gives the same trees.
  const treeRefit = blend
    ? undefined
    : isTreeModel(winnerModel)
      ? ((await speculative?.finish(winner.fit.bestEpoch, log)) ??
        refitTreeWinner(
          chosen,
          spec,
          { train: trainT, validation: valT },
          winner.fit.bestEpoch,
          treeRefitOptions(fitOptions),
        ))
      : undefined;
  const refit = blend
    ? undefined
    : isTreeModel(winnerModel)
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
    candidate: blend?.name ?? chosen.name,
    model_type: blend ? 'blend' : chosen.model,
    params: blend
      ? { blend: blend.indices.map((i) => candidates[i].name), max_rows: tp.blend?.max_rows }
      : runs[winner.index].params,
    ...(blend ? { blend: { members: blend.members, weighting: blend.weighting } } : {}),
    ...(classes ? { classes } : {}),
    ...(finished.threshold !== undefined ? { threshold: finished.threshold } : {}),
    ...(targetScaler ? { target_scaler: targetScaler } : {}),
    ...(finished.calibration ? { calibration: finished.calibration } : {}),
    ...(finished.residual_quantiles ? { residual_quantiles: finished.residual_quantiles } : {}),
    ...(refit ? { recent_refit: refit.record } : {}),
    metrics: {
      validation: finished.metrics,
      ...(blend ? {} : { validation_uncalibrated: runs[winner.index].val }),
      ...(finished.calibration_fit ? { calibration: finished.calibration_fit } : {}),
    },
    primary_metric: primary,
    data_md5: md5,
    git_commit: commit,
    created_at: runId,
    backend,
    input_schema: inputSchema,
    ...targetRangeOf(params),
    rows: {
      train: trainT.length,
      validation: valT.length,
      test: testRead.of,
      // The split sizes when train.max_rows / max_validation_rows left rows out.
      ...(trainRead.of > trainT.length ? { train_split: trainRead.of } : {}),
      ...(valRead.of > valT.length ? { validation_split: valRead.of } : {}),
    },
  };
  // A refitted tree ensemble is a new model; a refitted network changed its weights in place.
  const servedModel: BundleModel = blend?.model ?? treeRefit?.model ?? winner.fit.model;
  const golden = goldenExamples(tf, servedModel, meta, spec, testRead.table, tp.golden_examples);
  // The prediction reference for drift is the served model's: after a tree refit on a small table, its outputs
  // on every train + validation row; after another regression refit, its predictions for the validation rows;
  // a blend classifier's, its members' out-of-fold outputs (training/select/blend.ts).
  const refitReference = refitTreeReference(tf, treeRefit, meta, spec, { train: trainT, validation: valT });
  const profile = classes
    ? {
        ...inputProfile,
        ...profilePerClass(
          blend?.profilePredictions ?? refitReference ?? finished.scores,
          classes,
          params.profile.bins,
        ),
      }
    : {
        ...inputProfile,
        predictions: profileNumeric(
          {
            type: 'number',
            values: Float64Array.from(
              blend?.profilePredictions ?? refitReference ?? refit?.predictions ?? finished.scores,
            ),
          },
          params.profile.bins,
        ),
      };
  await saveBundle(tf, join(repoRoot, MODEL_DIR), servedModel, { meta, spec, profile, golden });
  if (blend) blend.model.dispose();
  else winner.fit.model.dispose();

  await writeMetricsFile(repoRoot, 'experiments', experimentsFile([...previous, ...runs], primary));
  const summary = {
    run_id: runId,
    backend,
    candidates: runs.length,
    selected: blend?.name ?? chosen.name,
    primary_metric: primary,
    higher_is_better: HIGHER_IS_BETTER[primary],
    [`validation_${primary}`]: round(blend?.bestValue ?? winner.fit.bestValue),
    ...(finished.threshold !== undefined ? { threshold: round(finished.threshold) } : {}),
    // A classification blend has none of its own: its members are calibrated (as evaluate.json says).
    ...(finished.calibration
      ? { calibration: finished.calibration.method }
      : blend && task === 'classification'
        ? { calibration: 'per_member' }
        : {}),
    // The winner's screening fit (train.screening) counts too.
    train_seconds: round(
      runs.reduce(
        (s, r) => s + r.duration_s + ((r.screening as { duration_s?: number } | undefined)?.duration_s ?? 0),
        0,
      ),
      3,
    ),
  };
  await writeMetricsFile(repoRoot, 'train', summary);
  log.info(
    `selected ${blend?.name ?? chosen.name}: validation ${primary} ${(blend?.bestValue ?? winner.fit.bestValue).toFixed(4)}; bundle written to ${MODEL_DIR}/`,
  );
  return summary;
}

if (isMain(import.meta.url)) {
  await runStage(trainStage, train);
}

/** bundle.json `target_range`: the numeric target's validate.schema min and max, when it has either. */
export function targetRangeOf(params: {
  task: Params['task'];
  validate: { schema: Params['validate']['schema'] };
}): Pick<BundleMeta, 'target_range'> {
  if (params.task.classes !== undefined || params.task.positive_class !== undefined) return {};
  const rule = params.validate.schema[params.task.target];
  if (!rule || (rule.type !== 'number' && rule.type !== 'integer')) return {};
  const [min, max] = [rule.min, rule.max].map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined));
  if (min === undefined && max === undefined) return {};
  return { target_range: { ...(min !== undefined && { min }), ...(max !== undefined && { max }) } };
}
