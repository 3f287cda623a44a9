/**
 * After selection: the winner's validation scores become the bundle's calibration, threshold or
 * residual quantiles, and train.recent_refit fits it once more on the latest rows.
 */
import type { FeatureSpec } from '../../core/model/features.ts';
import { quantileSorted } from '../../core/model/features.ts';
import { bestF1Threshold, classificationMetrics, regressionMetrics } from '../../core/model/quality-metrics.ts';
import { multiclassMetrics } from '../../core/model/multiclass-metrics.ts';
import {
  calibrateAll,
  chooseCalibration,
  expectedCalibrationError,
  type Calibration,
} from '../../core/model/calibration.ts';
import type { Logger } from '../../core/platform/log.ts';
import { refitOnRecent, type PrimaryMetric } from '../fit.ts';
import { cvIterations } from '../gbdt/cv-iterations.ts';
import { CV_FOLDS, isSmall } from '../gbdt/defaults.ts';
import { refitTreesOnAll } from '../gbdt/fit-gbdt.ts';
import { finishMulticlass } from '../train-multiclass.ts';
import { concatTables } from '../../core/data/table.ts';
import { outputsFromModel, type BundleModel } from '../../core/model/bundle.ts';
import type { BundleMeta } from '../../core/schemas/bundle-meta.ts';
import { round, roundAll } from './experiments.ts';

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
 * (Platt, beta or isotonic by cross-fitted validation log loss), and the threshold chosen by F1 on the
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

type RefitParams = { epochs: number; learning_rate_factor: number };

/**
 * train.recent_refit for a network winner (training/fit.ts refitOnRecent). Regression only: its
 * validation metrics and residual quantiles were taken before, on rows the model had not seen.
 * Classification keeps the model validation calibrated, since a calibration fitted on rows the
 * model has just learned would be fitted in-sample (README "Model quality" has the measurement).
 */
export async function refitWinner(
  tf: Parameters<typeof refitOnRecent>[0],
  winner: {
    model: Parameters<typeof refitOnRecent>[1];
    cfg: Parameters<typeof refitOnRecent>[2];
    rows: Parameters<typeof refitOnRecent>[3];
  },
  o: Omit<Parameters<typeof refitOnRecent>[4], 'epochs' | 'learningRateFactor'> & {
    task: 'classification' | 'regression';
    refit?: RefitParams;
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

/**
 * train.recent_refit for a tree winner: boosting again on train + validation
 * (training/gbdt/fit-gbdt.ts). Classification too: unlike a network's extra passes, this is a new
 * fit of the validated recipe (same inputs, iteration count) on more rows, and the calibration
 * fitted on the first model's out-of-sample validation scores carries over. Only regression
 * returns the refitted model's validation predictions (the drift reference of a large table): a
 * classifier's reference stays the calibrated out-of-sample scores of the first model, which
 * boosted for as many iterations. On a small table refitTreeReference gives the reference.
 */
export function refitTreeWinner(
  cfg: Parameters<typeof refitTreesOnAll>[0],
  spec: FeatureSpec,
  tables: Parameters<typeof refitTreesOnAll>[2],
  iterations: number,
  o: Parameters<typeof refitTreesOnAll>[4] & {
    task: 'classification' | 'regression';
    primary: PrimaryMetric;
    refit?: RefitParams;
  },
) {
  if (!o.refit || o.refit.epochs === 0) return undefined;
  const rows = tables.train.length + tables.validation.length;
  if (isSmall(rows)) {
    const cv = cvIterations(cfg, spec, tables, CV_FOLDS, o);
    o.log.info(
      `${cfg.name}: ${cv.iterations} iterations for the refit by ${cv.perFold.length}-fold cross-validation on ${rows} train + validation rows (folds ${cv.perFold.join(', ')}; the validation split said ${iterations})`,
    );
    iterations = cv.iterations;
  }
  const done = refitTreesOnAll(cfg, spec, tables, iterations, o);
  // One refit over every row at the candidate's own rate (the network's epochs and rate factor do not apply).
  const record = { epochs: 1, learning_rate_factor: 1, rows: done.rows, seconds: round(done.seconds, 3)!, iterations };
  return { record, predictions: o.task === 'regression' ? done.predictions : undefined, model: done.model };
}

/**
 * The prediction drift reference of a tree winner refitted on a small table: the served model's
 * outputs (through the bundle's own path: calibration, target scale) on every train + validation
 * row. There the refit's iteration count is cross-validated and can be many times the one
 * validation chose (penguins: 486 against 26), so the first model's validation scores describe
 * another model, and the API and `npm run drift` flagged its outputs on the very rows the reference
 * came from. Out-of-fold outputs of the same recipe are out of sample but come from five other
 * ensembles, whose leaf values differ from the served one's: a tree ensemble's outputs take few
 * distinct values, and KS over the reference's quantile bins sees that offset as drift (fresh rows
 * of one synthetic population: KS 0.12-0.32 against out-of-fold outputs, 0.03-0.06 against the
 * served model's own). A large table keeps the refit's validation iterations and its reference
 * (undefined here).
 */
export function refitTreeReference(
  tf: Parameters<typeof outputsFromModel>[0],
  refit: { record: { rows: number }; model: BundleModel } | undefined,
  meta: BundleMeta,
  spec: FeatureSpec,
  tables: Parameters<typeof refitTreesOnAll>[2],
): Float32Array | undefined {
  if (!refit || !isSmall(refit.record.rows)) return undefined;
  return outputsFromModel(tf, refit.model, meta, spec, concatTables([tables.train, tables.validation]));
}

/** refitTreeWinner's options from the train stage's options for its candidates (train.recent_refit, train.seed). */
export function treeRefitOptions(o: {
  task: 'classification' | 'regression';
  primary: PrimaryMetric;
  tp: { recent_refit?: RefitParams; seed: number };
  classes?: readonly string[];
  classWeight?: Record<number, number>;
  targetScaler?: { mean: number; std: number };
  log: Logger;
}): Parameters<typeof refitTreeWinner>[4] {
  const { task, primary, tp, classes, classWeight, targetScaler, log } = o;
  return {
    task,
    primary,
    refit: tp.recent_refit,
    seed: tp.seed,
    classes: classes?.length,
    classWeight,
    targetScaler,
    log,
  };
}
