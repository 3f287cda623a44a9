/**
 * train.blend: on a small table every candidate is kept and served as their weighted mean
 * (core/model/blend.ts) instead of the one that scored best on validation. On a few hundred rows
 * validation holds ~80, and which candidate wins them is mostly chance (cars-mpg: the tree
 * candidate would have been the best on test at four of five split seeds, validation picked it at
 * one); the weights are chosen on every train + validation row instead, each member's
 * out-of-fold output (./blend-oof.ts, ./blend-weights.ts). Each member is finished as a winner would be (its
 * own calibration on its validation scores, its own refit), so it outputs what it would alone.
 *
 * train.validation_blend: where train.blend does not apply (a large table), the weights come from
 * the validation split's outputs of the fits instead, taken before any refit, so they judge each
 * member on rows it had not seen; hundreds of thousands of validation rows choose two or three
 * weights well, and out-of-fold fits of every candidate would cost five more trainings each.
 * The trees and the network err differently enough on the flights' delay minutes that their mix
 * beats the trees alone on months neither saw (all flights, test May–June: RMSE 28.67 → 28.15;
 * docs/model-quality.md, "the trees and the network blended on validation").
 */
import type { FeatureSpec } from '../../core/model/features.ts';
import type { Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import type { BundleMeta } from '../../core/schemas/bundle-meta.ts';
import type { CandidateConfig } from '../../core/model/network.ts';
import type { Params } from '../../core/schemas/params.ts';
import { isTreeModel } from '../../core/model/trees.ts';
import { blendModel, blendOutputs, type BlendModel } from '../../core/model/blend.ts';
import type { SingleModel } from '../../core/model/bundle.ts';
import { metricValue, type PrimaryMetric } from '../candidate-metrics.ts';
import { finishWinner, refitTreeWinner, refitWinner, treeRefitOptions, validationMetrics } from './winner.ts';
import type { CandidateFit, SplitRows } from './candidates.ts';
import { outOfFoldOutputs } from './blend-oof.ts';
import { GREEDY_ROUNDS, greedyWeights, memberLosses, rowLoss } from './blend-weights.ts';
import type { SpeculativeRefit } from './refit-off-thread.ts';
import { round } from './experiments.ts';
import { CV_FOLDS, isSmall } from '../gbdt/defaults.ts';
import { refitTreesOnAll } from '../gbdt/fit-gbdt.ts';
import {
  chooseTreeRecipe,
  REFERENCE_RECIPE,
  referenceFirstFit,
  referenceRecipe,
  type RecipeRecord,
} from './tree-recipe.ts';

type TrainParams = NonNullable<Params['train']>;
type Member = NonNullable<BundleMeta['blend']>['members'][number];
type Weighting = NonNullable<NonNullable<BundleMeta['blend']>['weighting']>;

/** Whether this run blends: train.blend set, several candidates, and at most its max_rows train + validation rows, none left out by max_rows or screening. */
export function blends(
  tp: TrainParams,
  candidates: number,
  rows: { train: number; validation: number; trainSplit: number; validationSplit: number },
): boolean {
  if (!tp.blend || candidates < 2) return false;
  if (rows.train < rows.trainSplit || rows.validation < rows.validationSplit) return false;
  if (tp.screening && rows.train > tp.screening.max_rows) return false;
  return rows.train + rows.validation <= tp.blend.max_rows;
}

/** How a run blends its candidates: out of fold (train.blend, a small table), on validation (train.validation_blend), or not at all. */
export type BlendWeighting = 'out_of_fold' | 'validation';

/**
 * train.blend first; else train.validation_blend when it covers the task (`regression`, the
 * default, or `all`), with several candidates and no screening sample (which fits only the winner
 * on every row).
 */
export function blendWeighting(
  tp: TrainParams,
  task: 'classification' | 'regression',
  candidates: number,
  rows: Parameters<typeof blends>[2],
): BlendWeighting | undefined {
  if (blends(tp, candidates, rows)) return 'out_of_fold';
  const covered = tp.validation_blend ?? 'regression';
  if (candidates < 2 || covered === 'off' || (covered === 'regression' && task !== 'regression')) return undefined;
  if (tp.screening && rows.train > tp.screening.max_rows) return undefined;
  return 'validation';
}

/** Greedy rounds of a validation blend: weights in steps of 1/100, its many rows afford a finer grid than out-of-fold on a small table. */
export const VALIDATION_ROUNDS = 100;

/**
 * Every fit becomes a member (its refit included, train.recent_refit); the blend's validation
 * outputs are the weighted mean of the members' validation outputs, each from a model that had
 * not seen those rows. The weights were chosen on out-of-fold outputs that include the
 * validation rows (one of five folds), or with `preset` on the validation rows themselves
 * (./blend.ts validationBlend; a fit it gave weight 0 is disposed, not a member), so its
 * validation metrics, threshold and residual quantiles lean slightly optimistic; test is untouched.
 */
export async function blendFits(
  tf: Parameters<typeof refitWinner>[0],
  candidates: CandidateConfig[],
  fits: CandidateFit[],
  spec: FeatureSpec,
  data: { train: SplitRows; validation: SplitRows },
  o: {
    task: 'classification' | 'regression';
    primary: PrimaryMetric;
    tp: TrainParams;
    classes?: readonly string[];
    classWeight?: Record<number, number>;
    targetScaler?: { mean: number; std: number };
    log: Logger;
    /** Weights already chosen (validationBlend), in candidate order; without them, out of fold. */
    preset?: { weights: number[]; record: Weighting };
    /** A tree candidate's refit started beside the fits (./refit-off-thread.ts): that member's refit. */
    speculative?: SpeculativeRefit;
  },
) {
  const { task, primary, tp, classes, classWeight, targetScaler, log, speculative } = o;
  const y = data.validation.y;
  const tables: { train: Table; validation: Table } = { train: data.train.table, validation: data.validation.table };
  const members: {
    model: SingleModel;
    meta: Member;
    scores: Float32Array;
    served: Float32Array;
    oof?: Float32Array;
  }[] = [];
  const { preset } = o;
  const small = !preset && isSmall(tables.train.length + tables.validation.length);
  const indices = candidates.flatMap((_, i) => (!preset || preset.weights[i] > 0 ? [i] : []));
  for (const [i, fit] of fits.entries())
    if (!indices.includes(i)) {
      fit.model.dispose();
      if (speculative?.index === i) speculative.cancel();
    }
  for (const i of indices) {
    const [cfg, fit] = [candidates[i], fits[i]];
    let finished = finishWinner(task, y, fit.validationPredictions, classes);
    let model: SingleModel = fit.model;
    let refit: { record: Member['recent_refit']; predictions?: Float32Array } | undefined;
    let recipe: { record: RecipeRecord; outputs: Float32Array } | undefined;
    if (isTreeModel(fit.model)) {
      const done =
        (speculative?.index === i ? await speculative.finish(fit.bestEpoch, log) : undefined) ??
        refitTreeWinner(cfg, spec, tables, fit.bestEpoch, treeRefitOptions(o));
      if (done) model = done.model;
      refit = done;
      if (small && cfg.model === 'gbdt') {
        const chosen = await treeRecipe(
          tf,
          cfg,
          spec,
          tables,
          { y, finished, iterations: done?.record.iterations ?? fit.bestEpoch },
          o,
        );
        recipe = chosen;
        if (chosen.reference) ({ finished, model, refit } = chosen.reference);
      }
    } else
      refit = await refitWinner(
        tf,
        { model: fit.model, cfg, rows: data.validation },
        { task, batchSize: tp.batch_size, classWeight, targetScaler, seed: tp.seed, refit: tp.recent_refit, log },
      );
    members.push({
      model,
      meta: {
        candidate: cfg.name,
        model_type: cfg.model ?? 'mlp',
        weight: 1,
        ...(targetScaler ? { target_scaler: targetScaler } : {}),
        ...(finished.calibration ? { calibration: finished.calibration } : {}),
        ...(refit ? { recent_refit: refit.record } : {}),
        ...(recipe ? { tree_recipe: recipe.record } : {}),
      },
      scores: finished.scores,
      oof: recipe?.outputs,
      // The drift reference of a regression is what the served (refitted) model predicts.
      served: refit?.predictions ?? finished.scores,
    });
  }
  const weighing: { weights: number[]; record: Weighting; outputs?: Float32Array[] } = preset
    ? { weights: indices.map((i) => preset.weights[i]), record: preset.record }
    : await blendWeights(tf, candidates, fits, members, spec, tables, o);
  const names = indices.map((i) => candidates[i].name);
  const model: BlendModel<SingleModel> = blendModel(
    members.map((m, i) => ({ model: m.model, meta: m.meta, weight: weighing.weights[i] })),
  );
  const weights = model.members.map((m) => m.weight);
  const scores = blendOutputs(
    weights,
    members.map((m) => m.scores),
  );
  // The blend's own finishing: no calibration of its own (its members are calibrated); a threshold or residual quantiles.
  const own: ReturnType<typeof finishWinner> =
    task === 'regression'
      ? finishWinner(task, y, scores)
      : { scores, ...validationMetrics(task, y, scores, classes), residual_quantiles: undefined };
  const bestValue = metricValue(primary, y, scores, classes?.length ?? 1);
  const name = `blend:${names.join('+')}`;
  log.info(
    `${name}: weights ${names.map((c, i) => `${c} ${weights[i].toFixed(2)}`).join(', ')} (${
      preset
        ? `train.validation_blend, ${weighing.record.rows} validation rows before any refit,`
        : `train.blend, ${weighing.record.rows} train + validation rows, ${weighing.record.folds}-fold out-of-fold`
    } ${weighing.record.loss} ${weighing.record.member_loss.join(' / ')} alone, ${weighing.record.blend_loss} blended; ${weighing.record.seconds} s): validation ${primary} ${bestValue.toFixed(4)}`,
  );
  return {
    name,
    /** The candidates served, by index: with preset weights, those above 0. */
    indices,
    model,
    members: model.members.map((m, i) => ({ ...members[i].meta, weight: m.weight })),
    weighting: weighing.record,
    finished: own,
    bestValue,
    // The prediction drift reference: for a classifier, the blend of its members' out-of-fold
    // outputs (out of sample, from the served recipe: a refitted tree's iteration count, each
    // member's calibration); its validation scores came from members before any refit, whose
    // probabilities can differ from the served ones by orders of magnitude near 0 and 1.
    profilePredictions: blendOutputs(
      weights,
      task === 'classification' && weighing.outputs ? weighing.outputs : members.map((m) => m.served),
    ),
  };
}

/**
 * The members' weights from their out-of-fold outputs over train + validation (./blend-oof.ts,
 * ./blend-weights.ts): every row judges each member once, out of sample, where the validation
 * split alone has a fifth of the rows. A network's folds train for the epoch count validation
 * chose; the trees' for the iteration count of their refit.
 */
async function blendWeights(
  tf: Parameters<typeof outOfFoldOutputs>[0],
  candidates: CandidateConfig[],
  fits: CandidateFit[],
  members: { meta: Member; oof?: Float32Array }[],
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  o: Parameters<typeof blendFits>[5],
) {
  const t0 = performance.now();
  const { task, primary, tp, classes } = o;
  const k = classes?.length ?? 1;
  const oof = await outOfFoldOutputs(
    tf,
    members.map((m, i) => ({
      cfg: candidates[i],
      budget: m.meta.recent_refit?.iterations ?? fits[i].bestEpoch,
      calibration: m.meta.calibration,
      outputs: m.oof,
    })),
    spec,
    tables,
    { ...o, seed: tp.seed, batchSize: tp.batch_size, folds: CV_FOLDS, classes: classes?.length },
  );
  const loss = rowLoss(task, primary, k);
  const weights = greedyWeights(oof.y, oof.outputs, loss);
  const record: Weighting = {
    method: 'greedy_out_of_fold',
    folds: CV_FOLDS,
    rounds: GREEDY_ROUNDS,
    rows: oof.y.length,
    loss: lossName(task, primary),
    member_loss: memberLosses(oof.y, oof.outputs, loss).map((v) => round(v, 4)!),
    blend_loss: round(memberLosses(oof.y, [blendOutputs(weights, oof.outputs)], loss)[0], 4)!,
    seconds: round((performance.now() - t0) / 1000, 3)!,
  };
  return { weights, record, outputs: oof.outputs };
}

/**
 * train.validation_blend's weights, from each fit's validation outputs (calibrated for
 * classification, as served), which came from the fits on train, before any refit: out of sample
 * for every member. Greedy selection from empty (./blend-weights.ts): the first round takes the
 * best member alone, so the blend is never worse on validation than serving it, and a member
 * that does not help gets weight 0 (fewer than two above 0: no blend). `folds` 0 in the record
 * says no folds were fitted. The blend's validation metrics are then measured on the rows that
 * chose its weights; with one or two free weights over this many rows the optimism is small.
 */
export function validationBlend(
  y: Float32Array,
  validationPredictions: readonly Float32Array[],
  o: { task: 'classification' | 'regression'; primary: PrimaryMetric; classes?: readonly string[] },
): { weights: number[]; record: Weighting } {
  const t0 = performance.now();
  const outputs = validationPredictions.map((p) => finishWinner(o.task, y, p, o.classes).scores);
  const loss = rowLoss(o.task, o.primary, o.classes?.length ?? 1);
  const weights = greedyWeights(y, outputs, loss, VALIDATION_ROUNDS, true);
  const record: Weighting = {
    method: 'greedy_validation',
    folds: 0,
    rounds: VALIDATION_ROUNDS,
    rows: y.length,
    loss: lossName(o.task, o.primary),
    member_loss: memberLosses(y, outputs, loss).map((v) => round(v, 4)!),
    blend_loss: round(memberLosses(y, [blendOutputs(weights, outputs)], loss)[0], 4)!,
    seconds: round((performance.now() - t0) / 1000, 3)!,
  };
  return { weights, record };
}

function lossName(task: 'classification' | 'regression', primary: PrimaryMetric) {
  return task === 'classification' ? 'log_loss' : primary === 'mae' ? 'absolute_error' : 'squared_error';
}

/**
 * A small table's tree member: its own recipe or the reference one, whichever has the lower
 * out-of-fold loss (./tree-recipe.ts). With the reference recipe chosen, its validation scores
 * (its calibration), refit on train + validation and out-of-fold outputs replace the own
 * recipe's.
 */
async function treeRecipe(
  tf: Parameters<typeof chooseTreeRecipe>[0],
  cfg: CandidateConfig,
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  own: { y: Float32Array; finished: ReturnType<typeof finishWinner>; iterations: number },
  o: Parameters<typeof blendFits>[5],
) {
  const { task, tp, classes, log } = o;
  const t0 = performance.now();
  const ro = { ...o, seed: tp.seed, batchSize: tp.batch_size };
  const refCfg = referenceRecipe(cfg);
  const first = referenceFirstFit(refCfg, spec, tables, ro);
  const refFinished = finishWinner(task, own.y, first.predictions, classes);
  const choice = await chooseTreeRecipe(
    tf,
    spec,
    tables,
    { cfg, iterations: own.iterations, calibration: own.finished.calibration },
    { cfg: refCfg, calibration: refFinished.calibration },
    ro,
  );
  const r = choice.record;
  log.info(
    `${cfg.name}: ${r.chosen === 'reference' ? 'the reference recipe' : 'its own recipe'} by ${r.folds}-fold out-of-fold ${r.loss} on ${tables.train.length + tables.validation.length} train + validation rows: own ${r.own_loss} (${own.iterations} iterations), reference ${r.reference_loss} (HistGradientBoosting's defaults: ${REFERENCE_RECIPE.max_iter} iterations, ${REFERENCE_RECIPE.max_leaf_nodes} leaves, min_samples_leaf ${REFERENCE_RECIPE.min_samples_leaf}, no L2) (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  if (r.chosen === 'own') {
    first.model.dispose();
    return { ...choice, reference: undefined };
  }
  const refitOptions = treeRefitOptions(o);
  let model: SingleModel = first.model;
  let refit: { record: Member['recent_refit']; predictions?: Float32Array } | undefined;
  if (refitOptions.refit && refitOptions.refit.epochs > 0) {
    const done = refitTreesOnAll(refCfg, spec, tables, REFERENCE_RECIPE.max_iter, refitOptions);
    first.model.dispose();
    model = done.model;
    refit = {
      record: {
        epochs: 1,
        learning_rate_factor: 1,
        rows: done.rows,
        seconds: round(done.seconds, 3)!,
        iterations: done.iterations,
      },
      predictions: task === 'regression' ? done.predictions : undefined,
    };
  }
  return { ...choice, reference: { finished: refFinished, model, refit } };
}
