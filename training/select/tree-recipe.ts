/**
 * On a small table the tree member of a blend (./blend.ts) has two recipes to choose from: its
 * own (the candidate's settings, min_samples_leaf capped by the row count, the refit's iteration
 * count cross-validated) and the reference one, scikit-learn's HistGradientBoosting defaults
 * below 10,000 rows (100 iterations without early stopping, 31 leaves, min_samples_leaf 20 as
 * given, no L2). Neither wins everywhere: on cars-mpg the reference recipe is the better tree
 * member, on seattle-weather it is far worse (docs/model-quality.md). Each is fitted on the same
 * five folds of train + validation and the one with the lower mean out-of-fold loss (the loss
 * the blend weighs its members by) is kept: model selection on the fitting rows, as the blend's
 * weights are, not a per-dataset switch. The kept recipe's out-of-fold outputs, validation
 * scores (its calibration) and refit are what the blend uses and serves.
 */
import type { FeatureSpec } from '../../core/model/features.ts';
import { takeRows, type Table } from '../../core/data/table.ts';
import type { Logger } from '../../core/platform/log.ts';
import type { CandidateConfig } from '../../core/model/network.ts';
import { treeOutputs, type TreeModel } from '../../core/model/trees.ts';
import { refitTreesOnAll } from '../gbdt/fit-gbdt.ts';
import type { PrimaryMetric } from '../fit.ts';
import { CV_FOLDS } from '../gbdt/defaults.ts';
import { outOfFoldOutputs } from './blend-oof.ts';
import { memberLosses, rowLoss } from './blend-weights.ts';
import { finishWinner } from './winner.ts';
import { round } from './experiments.ts';

/** HistGradientBoosting's defaults (scikit-learn 1.2) below 10,000 rows, where it does not stop early. */
export const REFERENCE_RECIPE = {
  learning_rate: 0.1,
  max_iter: 100,
  max_leaf_nodes: 31,
  max_depth: 0,
  min_samples_leaf: 20,
  l2_regularization: 0,
  max_bins: 255,
} as const;

/** A candidate's reference recipe: its inputs and categorical settings, the reference's boosting settings, every iteration kept. */
export function referenceRecipe(cfg: CandidateConfig): CandidateConfig {
  return {
    ...cfg,
    ...REFERENCE_RECIPE,
    patience: REFERENCE_RECIPE.max_iter,
    min_samples_leaf_uncapped: true,
  } as CandidateConfig;
}

export interface RecipeRecord {
  chosen: 'own' | 'reference';
  folds: number;
  loss: string;
  own_loss: number;
  reference_loss: number;
  /** The reference recipe's settings (REFERENCE_RECIPE). */
  reference: Record<string, number>;
}

export interface RecipeOptions {
  task: 'classification' | 'regression';
  primary: PrimaryMetric;
  seed: number;
  batchSize: number;
  classes?: readonly string[];
  classWeight?: Record<number, number>;
  targetScaler?: { mean: number; std: number };
  log: Logger;
}

/** The reference recipe fitted on train alone (every iteration), and its outputs on validation in served units: what its calibration and validation scores come from. */
export function referenceFirstFit(
  cfg: CandidateConfig,
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  o: RecipeOptions,
): { model: TreeModel; predictions: Float32Array } {
  const silent: Logger = { ...o.log, info() {}, debug() {}, child: () => silent, enabled: () => false };
  const fit = refitTreesOnAll(
    cfg,
    spec,
    { train: tables.train, validation: takeRows(tables.validation, []) },
    REFERENCE_RECIPE.max_iter,
    { ...o, classes: o.classes?.length, log: silent },
  );
  const raw = treeOutputs(fit.model, spec, tables.validation, null);
  const s = o.targetScaler;
  return { model: fit.model, predictions: s ? raw.map((v) => v * s.std + s.mean) : raw };
}

/**
 * Which recipe the tree member keeps: both fitted on the blend's folds (./blend-oof.ts, the same
 * fold of every row as the blend's weights), each with its own budget and calibration; the
 * lower mean out-of-fold loss wins, a tie keeps the member's own. Returns the kept recipe's
 * out-of-fold outputs, so the blend does not fit them again.
 */
export async function chooseTreeRecipe(
  tf: Parameters<typeof outOfFoldOutputs>[0],
  spec: FeatureSpec,
  tables: { train: Table; validation: Table },
  own: { cfg: CandidateConfig; iterations: number; calibration?: ReturnType<typeof finishWinner>['calibration'] },
  reference: { cfg: CandidateConfig; calibration?: ReturnType<typeof finishWinner>['calibration'] },
  o: RecipeOptions,
): Promise<{ record: RecipeRecord; outputs: Float32Array }> {
  const k = o.classes?.length ?? 1;
  const oof = await outOfFoldOutputs(
    tf,
    [
      { cfg: own.cfg, budget: own.iterations, calibration: own.calibration },
      { cfg: reference.cfg, budget: REFERENCE_RECIPE.max_iter, calibration: reference.calibration },
    ],
    spec,
    tables,
    { ...o, folds: CV_FOLDS, classes: o.classes?.length },
  );
  const [ownLoss, referenceLoss] = memberLosses(oof.y, oof.outputs, rowLoss(o.task, o.primary, k));
  const chosen = referenceLoss < ownLoss ? 'reference' : 'own';
  const loss = o.task === 'classification' ? 'log_loss' : o.primary === 'mae' ? 'absolute_error' : 'squared_error';
  return {
    record: {
      chosen,
      folds: CV_FOLDS,
      loss,
      own_loss: round(ownLoss, 4)!,
      reference_loss: round(referenceLoss, 4)!,
      reference: { ...REFERENCE_RECIPE },
    },
    outputs: oof.outputs[chosen === 'reference' ? 1 : 0],
  };
}
