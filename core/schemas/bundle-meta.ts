/**
 * A model bundle's `bundle.json` (written by the train stage, read by register and, through
 * core/model/bundle.ts, by the API's model info and alerts), checked like every metrics file
 * (core/schemas/metrics-files.ts): a malformed one fails naming the file and field. The schema is
 * the one definition of the file: `BundleMeta`, the type every reader and writer uses, is what it
 * gives.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { columnSchema, modelKindSchema } from './params.ts';
import { checkJson, metricMap, readJsonFile, taskSchema, valueOf } from './metrics-files.ts';

import { BUNDLE_META_FILE } from './artifact-names.ts';

export { BUNDLE_META_FILE };
const num = z.number();

/** Validation metrics of the bundled model (calibrated), of its raw scores, and the calibration fit. */
export const bundleMetricsSchema = z.looseObject({
  validation: metricMap.default({}),
  validation_uncalibrated: metricMap.optional(),
  calibration: metricMap.optional(),
});

/** Platt scaling: calibrated = sigmoid(a · logit(score) + b). */
export const plattCalibrationSchema = z.object({ method: z.literal('platt'), a: num, b: num });
/** Isotonic regression: knots, x increasing; y non-decreasing in [0, 1] (core/model/calibration.ts fits and applies both). */
export const isotonicCalibrationSchema = z.object({ method: z.literal('isotonic'), x: z.array(num), y: z.array(num) });
/**
 * Beta calibration (Kull et al. 2017): calibrated = sigmoid(a · ln(score) − b · ln(1 − score) + c),
 * a, b ≥ 0 so it is monotone; Platt on the logit is the case a = b. Bundles before it hold Platt or isotonic.
 */
export const betaCalibrationSchema = z.object({
  method: z.literal('beta'),
  a: num.nonnegative(),
  b: num.nonnegative(),
  c: num,
});
/** Temperature scaling (multi-class): calibrated = softmax(logits / temperature), fitted on validation. */
export const temperatureCalibrationSchema = z.object({ method: z.literal('temperature'), temperature: num.positive() });
export const calibrationSchema = z.discriminatedUnion('method', [
  plattCalibrationSchema,
  isotonicCalibrationSchema,
  betaCalibrationSchema,
  temperatureCalibrationSchema,
]);

const refitSchema = z.object({
  epochs: num,
  learning_rate_factor: num,
  rows: num,
  seconds: num,
  iterations: num.optional(),
});

const bundleMetaFields = z.looseObject({
  format_version: num,
  name: z.string(),
  task: taskSchema,
  candidate: z.string(),
  /** `blend`: several candidates served as their weighted mean (`blend` below; core/model/blend.ts). */
  model_type: z.union([modelKindSchema, z.literal('blend')]),
  params: z.record(z.string(), z.unknown()),
  /** Multi-class: the class names in output order (the feature spec's target.classes). Absent in binary and regression bundles. */
  classes: z.array(z.string()).min(3).optional(),
  /** Classification: probability at or above which the label is 1 (chosen on validation; core/model/decision.ts). */
  threshold: num.optional(),
  /** Regression: the model predicts (y − mean) / std. */
  target_scaler: z.object({ mean: num, std: num }).optional(),
  /** Classification: fitted on validation, applied by core/model/forward.ts to every output. Absent in bundles written before calibration (served raw). */
  calibration: calibrationSchema.optional(),
  /** Regression: quantiles of validation residuals (actual − predicted), e.g. for intervals. */
  residual_quantiles: z.record(z.string(), num).optional(),
  /**
   * A numeric target (regression, or classification by positive_above): its validate.schema range,
   * which a POST /feedback `actual` must be within, as every training row's was. Absent: no bound.
   */
  target_range: z.object({ min: num.optional(), max: num.optional() }).optional(),
  /**
   * train.recent_refit, when it ran: the winner's extra passes over the validation rows after its
   * validation metrics were taken (trees: boosted again on train + validation, `iterations` trees per class).
   */
  recent_refit: refitSchema.optional(),
  /**
   * A blend's members, in the order of their model files (`members/<i>/`): each with its own target
   * scaling and calibration, as a bundle of its own would hold them; weights sum to 1.
   */
  blend: z
    .object({
      members: z
        .array(
          z.object({
            candidate: z.string(),
            model_type: modelKindSchema,
            weight: num.positive(),
            target_scaler: z.object({ mean: num, std: num }).optional(),
            calibration: calibrationSchema.optional(),
            recent_refit: refitSchema.optional(),
            /**
             * A small table's tree member: the recipe kept (its own, or HistGradientBoosting's
             * defaults) and each one's out-of-fold loss (training/select/tree-recipe.ts).
             */
            tree_recipe: z
              .object({
                chosen: z.enum(['own', 'reference']),
                folds: num,
                loss: z.string(),
                own_loss: num,
                reference_loss: num,
                reference: z.record(z.string(), num),
              })
              .optional(),
          }),
        )
        .min(2),
      /** How the weights were chosen (training/select/blend-weights.ts); absent in equal-weight blends written before. */
      weighting: z
        .object({
          method: z.string(),
          folds: num,
          rounds: num,
          rows: num,
          loss: z.string(),
          /** Each member's mean out-of-fold loss alone, in member order, and the weighted blend's. */
          member_loss: z.array(num),
          blend_loss: num,
          seconds: num,
        })
        .optional(),
    })
    .optional(),
  metrics: bundleMetricsSchema,
  primary_metric: z.string(),
  data_md5: z.string().nullable(),
  git_commit: z.string().nullable(),
  created_at: z.string(),
  backend: z.string(),
  /** The validate.schema rules of the model's input columns (core/schemas/params.ts). */
  // Loose: a rule field a newer trainer adds must not make older API pods refuse the bundle mid-rollout.
  input_schema: z.record(z.string(), columnSchema.loose()),
  rows: z.record(z.string(), num),
});
// Either alone would load the wrong files (a network from the bundle's root, or members where one model is meant).
export const bundleMetaSchema = bundleMetaFields.refine((m) => (m.model_type === 'blend') === (m.blend !== undefined), {
  path: ['blend'],
  message:
    'model_type `blend` and the `blend` members go together (one is missing); the bundle.json was edited or written by a broken trainer',
});
export type BundleMetrics = z.output<typeof bundleMetricsSchema>;
/** A bundle's `bundle.json` as read (defaults filled in) and as written. */
export type BundleMeta = z.output<typeof bundleMetaSchema>;
export type Calibration = z.output<typeof calibrationSchema>;
export type PlattCalibration = z.output<typeof plattCalibrationSchema>;
export type IsotonicCalibration = z.output<typeof isotonicCalibrationSchema>;
export type BetaCalibration = z.output<typeof betaCalibrationSchema>;

/** Validate a parsed `bundle.json`; `where` (its path) is named in the error with the field. */
export function parseBundleMeta(json: unknown, where: string): BundleMeta {
  return valueOf(checkJson(json, bundleMetaSchema, { where, stage: 'train' }));
}

/** Read and validate `<bundleDir>/bundle.json` (a missing one is an error too). */
export async function readBundleMeta(bundleDir: string): Promise<BundleMeta> {
  const file = join(bundleDir, BUNDLE_META_FILE);
  return valueOf(await readJsonFile(file, bundleMetaSchema, { where: file, stage: 'train' }));
}
