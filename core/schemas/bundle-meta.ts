/**
 * A model bundle's `bundle.json` (written by the train stage, read by register and, through
 * core/model/bundle.ts, by the API's model info and alerts), checked like every metrics file
 * (core/schemas/metrics-files.ts): a malformed one fails naming the file and field. The lineage, metrics
 * and input rules are checked here; the calibration's parameters by the code that applies them.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { columnSchema } from './params.ts';
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
export const bundleMetaSchema = z.looseObject({
  format_version: num,
  name: z.string(),
  task: taskSchema,
  candidate: z.string(),
  model_type: z.string(),
  params: z.record(z.string(), z.unknown()),
  threshold: num.optional(),
  target_scaler: z.object({ mean: num, std: num }).optional(),
  calibration: z.looseObject({ method: z.string() }).optional(),
  residual_quantiles: z.record(z.string(), num).optional(),
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
export type BundleMetrics = z.output<typeof bundleMetricsSchema>;
export type BundleMetaFile = z.output<typeof bundleMetaSchema>;

/** Validate a parsed `bundle.json`; `where` (its path) is named in the error with the field. */
export function parseBundleMeta(json: unknown, where: string): BundleMetaFile {
  return valueOf(checkJson(json, bundleMetaSchema, { where, stage: 'train' }));
}

/** Read and validate `<bundleDir>/bundle.json` (a missing one is an error too). */
export async function readBundleMeta(bundleDir: string): Promise<BundleMetaFile> {
  const file = join(bundleDir, BUNDLE_META_FILE);
  return valueOf(await readJsonFile(file, bundleMetaSchema, { where: file, stage: 'train' }));
}
