/**
 * What the report reads: the JSON other stages wrote. Only `metrics/evaluate.json` is required;
 * every other file may be missing or unreadable, and the report then says so in its section.
 * Schemas check the fields the report uses and let everything else through.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

const metricMap = z.record(z.string(), z.unknown());
const confusionSchema = z.object({ tp: z.number(), fp: z.number(), tn: z.number(), fn: z.number() });

const evaluateSchema = z.object({
  task: z.enum(['classification', 'regression']),
  model_name: z.string(),
  candidate: z.string().nullish(),
  version_hint: z.string().nullish(),
  threshold: z.number().nullable().optional(),
  rows_test: z.number(),
  primary_metric: z.string(),
  higher_is_better: z.boolean(),
  test: metricMap,
  baseline: metricMap,
  baseline_kind: z.string().nullish(),
  edge_cases: z
    .object({
      total: z.number(),
      predicted: z.number(),
      rejected: z.number(),
      failed: z.number(),
      examples: z.array(z.object({ case: z.string(), outcome: z.string(), detail: z.string() })).default([]),
    })
    .optional(),
  latency_ms: z.object({ p50: z.number(), p95: z.number() }).optional(),
  /** Classification: expected calibration error and log loss of the served (calibrated) and raw scores. */
  calibration: z
    .object({ method: z.string(), ece: z.number().nullable(), ece_uncalibrated: z.number().nullable(), log_loss: z.number().nullable(), log_loss_uncalibrated: z.number().nullable(), log_loss_baseline: z.number().nullable() })
    .optional(),
  /** Regression: how often the validation-residual interval holds on test. */
  intervals: z.object({ nominal: z.number(), test_coverage: z.number().nullable(), residual_quantiles: z.record(z.string(), z.number()) }).optional(),
  /** Optional wording for the two classes and the regression target's unit. */
  class_labels: z.object({ negative: z.string(), positive: z.string() }).optional(),
  target_unit: z.string().nullish(),
});

const registerSchema = z.object({
  model_name: z.string(),
  version: z.number(),
  decision: z.enum(['promoted', 'staging', 'rejected']),
  reason: z.string(),
  production_before: z
    .object({ version: z.number(), metric: z.number().nullable(), metrics: z.record(z.string(), z.number().nullable()).optional() })
    .nullable(),
  candidate_metric: z.number().nullable().optional(),
  delta: z.number().nullable().optional(),
  gates: z.record(z.string(), z.object({ passed: z.boolean(), detail: z.string() })).default({}),
});

const runSchema = z.object({
  run_id: z.string(),
  candidate: z.string(),
  model: z.string(),
  params: z.record(z.string(), z.unknown()).default({}),
  epochs: z.number().nullish(),
  best_epoch: z.number().nullish(),
  duration_s: z.number().nullish(),
  backend: z.string().nullish(),
  rows_train: z.number().nullish(),
  rows_per_s: z.number().nullish(),
  val: metricMap.default({}),
  selected: z.boolean().default(false),
  git_commit: z.string().nullish(),
  time: z.string().nullish(),
});
const experimentsSchema = z.object({ runs: z.array(runSchema) });
const trainSchema = z.object({ run_id: z.string().nullish(), selected: z.string().nullish() });

const validateSchema = z.object({
  rows_in: z.number(),
  rows_valid: z.number(),
  rows_rejected: z.number(),
  reject_rate: z.number(),
  rejects_by_reason: z.record(z.string(), z.number()).default({}),
});
/** Split sizes, time ranges and positive rate (classification) or target mean (regression) per split. */
const prepareSchema = z.record(z.string(), z.unknown());
const manifestSchema = z.object({
  batches: z.array(z.object({ rows: z.number().optional(), first_time: z.string().nullable().optional(), last_time: z.string().nullable().optional() })),
});

const nullableNumber = z.number().nullable();
const rocSchema = z.array(z.object({ fpr: z.number(), tpr: z.number(), threshold: nullableNumber.default(null) }));
const prSchema = z.array(z.object({ recall: z.number(), precision: z.number(), threshold: nullableNumber.default(null) }));
const calibrationSchema = z.array(
  z.object({ bin: z.number(), lower: z.number(), upper: z.number(), mean_predicted: nullableNumber, fraction_positive: nullableNumber, count: z.number() }),
);
const residualsSchema = z.array(z.object({ bin: z.string(), count: z.number() }));
const distributionsSchema = z.record(
  z.string(),
  z.object({ kind: z.string().default('numeric'), bins: z.array(z.object({ bin: z.string(), train: z.number(), test: z.number() })) }),
);

export type Evaluation = z.infer<typeof evaluateSchema>;
export type Registration = z.infer<typeof registerSchema>;
export type ExperimentRun = z.infer<typeof runSchema>;
const dataDriftSchema = z.object({
  status: z.enum(['ok', 'no_production_model']),
  production_version: z.number().nullable(),
  rows: z.number().optional(),
  dataset_drift: z.boolean().optional(),
  drift_share: z.number().optional(),
  drifted_features: z.array(z.string()).optional(),
  features: z.record(z.string(), z.object({ method: z.string(), score: z.number().nullable(), threshold: z.number(), drifted: z.boolean(), status: z.string() })).optional(),
});
export type DataDrift = z.infer<typeof dataDriftSchema>;

export type ValidateSummary = z.infer<typeof validateSchema>;
export type Distributions = z.infer<typeof distributionsSchema>;
export type Confusion = z.infer<typeof confusionSchema>;

/** A file the report could use: its value, or why there is none (for the reader, not a stack trace). */
export type Input<T> = { ok: true; path: string; value: T } | { ok: false; path: string; why: string };

/** Which stage writes each input, so a missing file points at the command that makes it. */
export const INPUTS = {
  evaluate: { path: 'metrics/evaluate.json', stage: 'evaluate', schema: evaluateSchema },
  register: { path: 'metrics/register.json', stage: 'register', schema: registerSchema },
  train: { path: 'metrics/train.json', stage: 'train', schema: trainSchema },
  experiments: { path: 'metrics/experiments.json', stage: 'train', schema: experimentsSchema },
  validate: { path: 'metrics/validate.json', stage: 'validate', schema: validateSchema },
  prepare: { path: 'metrics/prepare.json', stage: 'prepare', schema: prepareSchema },
  manifest: { path: 'data/manifest.json', stage: 'ingest', schema: manifestSchema },
  roc: { path: 'metrics/plots/roc.json', stage: 'evaluate', schema: rocSchema },
  pr: { path: 'metrics/plots/pr.json', stage: 'evaluate', schema: prSchema },
  calibration: { path: 'metrics/plots/calibration.json', stage: 'evaluate', schema: calibrationSchema },
  calibrationBefore: { path: 'metrics/plots/calibration-uncalibrated.json', stage: 'evaluate', schema: calibrationSchema },
  residuals: { path: 'metrics/plots/residuals.json', stage: 'evaluate', schema: residualsSchema },
  distributions: { path: 'metrics/feature-distributions.json', stage: 'evaluate', schema: distributionsSchema },
  dataDrift: { path: 'metrics/drift.json', stage: 'register', schema: dataDriftSchema },
} as const;

type Inputs = typeof INPUTS;
export type ReportInputs = { evaluate: Evaluation } & { [K in Exclude<keyof Inputs, 'evaluate'>]: Input<z.infer<Inputs[K]['schema']>> };

async function load<K extends keyof Inputs>(repoRoot: string, key: K): Promise<Input<z.infer<Inputs[K]['schema']>>> {
  const { path, stage, schema } = INPUTS[key];
  let text: string;
  try {
    text = await readFile(join(repoRoot, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, path, why: code === 'ENOENT' ? `\`${path}\` is missing (the ${stage} stage writes it)` : `\`${path}\` could not be read (${code ?? (err as Error).message})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, path, why: `\`${path}\` is not valid JSON (${(err as Error).message}); rerun the ${stage} stage` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, path, why: `\`${path}\` does not have the expected shape (${issue.path.join('.') || 'top level'}: ${issue.message}); rerun the ${stage} stage` };
  }
  return { ok: true, path, value: parsed.data as z.infer<Inputs[K]['schema']> };
}

export async function loadReportInputs(repoRoot: string): Promise<ReportInputs> {
  const keys = Object.keys(INPUTS) as (keyof Inputs)[];
  const loaded = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await load(repoRoot, k)] as const)));
  const evaluate = loaded.evaluate as Input<Evaluation>;
  if (!evaluate.ok) throw new Error(`${evaluate.why}; the report needs it. Run the pipeline up to evaluate (\`npm run pipeline\`).`);
  return { ...loaded, evaluate: evaluate.value } as ReportInputs;
}

/** The confusion counts of a metric map, when it has valid ones. */
export function confusionOf(metrics: Record<string, unknown>): Confusion | null {
  const parsed = confusionSchema.safeParse(metrics.confusion);
  return parsed.success ? parsed.data : null;
}

/** A finite number from a metric map, or null. */
export function metricOf(metrics: Record<string, unknown> | undefined, name: string): number | null {
  const v = metrics?.[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
