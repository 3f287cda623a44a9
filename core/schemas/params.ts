/**
 * params.yaml: the single home of pipeline parameters, validated at load time so a typo fails
 * with the path of the bad key instead of deep inside a stage.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { PRIMARY_METRICS } from './metric-directions.ts';

export const columnSchema = z
  .object({
    type: z.enum(['number', 'integer', 'timestamp', 'category', 'string']),
    required: z.boolean().default(true),
    min: z.union([z.number(), z.string()]).optional(),
    max: z.union([z.number(), z.string()]).optional(),
    allowed: z.array(z.string()).optional(),
    pattern: z.string().optional(),
  })
  .strict();

/** The parts a datetime feature can be broken into (core/model/features.ts computes them, UTC). */
export const DATETIME_PARTS = ['hour', 'day_of_week', 'month', 'day_of_month'] as const;

const featureSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('numeric'),
      transform: z.enum(['standard', 'log']).default('standard'),
      missing: z.enum(['median', 'mean', 'zero']).default('median'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('categorical'),
      min_frequency: z.number().int().min(1).default(1),
      max_categories: z.number().int().min(1).default(1000),
    })
    .strict(),
  // min_cycles: a part is used only when the training data covers at least this many of its cycles (distinct hours ÷ 24, days ÷ 7, months ÷ 12; default 2; 0: always).
  z
    .object({
      kind: z.literal('datetime'),
      parts: z.array(z.enum(DATETIME_PARTS)).min(1),
      min_cycles: z.number().min(0).optional(),
    })
    .strict(),
  // A cross of categorical features and/or datetime parts (`date.hour`); its key is a new name, not a column.
  z
    .object({
      kind: z.literal('cross'),
      columns: z.array(z.string().min(1)).min(2),
      min_frequency: z.number().int().min(1).default(1),
      max_categories: z.number().int().min(1).default(10000),
    })
    .strict(),
]);

/** The kinds of model core/model/network.ts builds (a candidate's `model`, a bundle's `model_type`). */
export const modelKindSchema = z.enum(['logistic', 'mlp']);

const candidateSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -'),
    model: modelKindSchema,
    learning_rate: z.number().positive().optional(),
    hidden: z.array(z.number().int().positive()).optional(),
    embedding_dim: z.number().int().positive().optional(),
    dropout: z.number().min(0).lt(1).optional(),
    l2: z.number().min(0).optional(),
    wide: z.boolean().optional(),
    lr_schedule: z.enum(['constant', 'cosine']).optional(),
    grid: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
  })
  .strict();

const trainSchema = z
  .object({
    primary_metric: z.enum(PRIMARY_METRICS),
    seed: z.number().int(),
    max_epochs: z.number().int().min(1),
    patience: z.number().int().min(1),
    batch_size: z.number().int().min(1),
    class_weight: z.enum(['balanced', 'none']).default('balanced'),
    golden_examples: z.number().int().min(1).max(100).default(8),
    // After selection, the winner takes `epochs` more passes over the validation rows (the latest data) at learning_rate_factor × its rate; 0 epochs: off.
    recent_refit: z
      .object({ epochs: z.number().int().min(0).max(20), learning_rate_factor: z.number().positive().max(1) })
      .strict()
      .optional(),
    candidates: z.array(candidateSchema).min(1),
  })
  .strict();

const registerSchema = z
  .object({
    model_name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and -'),
    registry: z.string().min(1),
    min_improvement: z.number().min(0),
    latency_budget_ms: z.number().positive(),
  })
  .strict();

export type CandidateParams = z.infer<typeof candidateSchema>;

/**
 * Drift detection (core/drift): which test runs per feature and when it counts as drift.
 * Optional so params files written before drift monitoring existed still parse; every key has a
 * default close to Evidently's (see core/drift/README.md).
 */
export const driftSchema = z
  .object({
    size_cutoff: z.number().int().min(1).default(1000),
    ks_p_value: z.number().gt(0).lt(1).default(0.05),
    chi2_p_value: z.number().gt(0).lt(1).default(0.05),
    wasserstein_threshold: z.number().gt(0).default(0.1),
    jensen_shannon_threshold: z.number().gt(0).max(1).default(0.1),
    dataset_drift_share: z.number().gt(0).max(1).default(0.5),
    min_window: z.number().int().min(1).default(100),
  })
  .strict();

export type DriftParams = z.infer<typeof driftSchema>;

export const paramsSchema = z
  .object({
    data: z
      .object({
        source: z.string().min(1),
        format: z.enum(['auto', 'csv', 'parquet']).default('auto'),
        time_column: z.string().min(1),
      })
      .strict(),
    ingest: z
      .object({
        batch_size: z.number().int().positive(),
        batches_per_run: z.number().int().min(0),
        max_batches: z.number().int().min(0),
      })
      .strict(),
    validate: z
      .object({
        max_reject_rate: z.number().min(0).max(1),
        max_field_bytes: z.number().int().positive().default(4096),
        schema: z.record(z.string(), columnSchema),
      })
      .strict(),
    task: z
      .object({
        type: z.enum(['classification', 'regression']),
        target: z.string().min(1),
        positive_above: z.number().optional(),
      })
      .strict(),
    features: z.record(z.string(), featureSchema),
    split: z
      .object({
        method: z.enum(['time', 'hash']),
        validation_fraction: z.number().gt(0).lt(1),
        test_fraction: z.number().gt(0).lt(1),
        hash_key: z.array(z.string()).min(1).optional(),
        seed: z.number().int().default(42),
      })
      .strict(),
    profile: z
      .object({
        bins: z.number().int().min(2).max(200).default(20),
        top_categories: z.number().int().min(1).default(50),
      })
      .strict(),
    train: trainSchema.optional(),
    register: registerSchema.optional(),
    drift: driftSchema.optional(),
  })
  .passthrough()
  .superRefine((p, ctx) => {
    const schemaCols = Object.keys(p.validate.schema);
    if (!schemaCols.includes(p.data.time_column))
      ctx.addIssue({
        code: 'custom',
        path: ['data', 'time_column'],
        message: `"${p.data.time_column}" must be a column of validate.schema (${schemaCols.join(', ')})`,
      });
    if (!schemaCols.includes(p.task.target))
      ctx.addIssue({
        code: 'custom',
        path: ['task', 'target'],
        message: `"${p.task.target}" must be a column of validate.schema`,
      });
    if (p.task.type === 'classification' && p.task.positive_above === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['task', 'positive_above'],
        message: 'classification needs positive_above (label 1 when target > this value)',
      });
    for (const [f, fp] of Object.entries(p.features)) {
      if (fp.kind === 'cross') {
        for (const c of fp.columns) {
          const [col, part] = c.split('.');
          const base = p.features[col];
          const ok =
            base &&
            (part ? base.kind === 'datetime' && (base.parts as string[]).includes(part) : base.kind === 'categorical');
          if (!ok)
            ctx.addIssue({
              code: 'custom',
              path: ['features', f, 'columns'],
              message: `"${c}" must name a categorical feature or a datetime part (e.g. date.hour) declared in features`,
            });
        }
        continue;
      }
      if (!schemaCols.includes(f))
        ctx.addIssue({
          code: 'custom',
          path: ['features', f],
          message: `feature "${f}" is not a column of validate.schema`,
        });
      if (f === p.task.target)
        ctx.addIssue({
          code: 'custom',
          path: ['features', f],
          message: `the target "${f}" cannot also be a feature (it would leak the answer)`,
        });
    }
    if (p.split.validation_fraction + p.split.test_fraction >= 0.9)
      ctx.addIssue({
        code: 'custom',
        path: ['split'],
        message: 'validation_fraction + test_fraction must leave at least 10% for training',
      });
    if (p.train) {
      const classification = ['roc_auc', 'pr_auc', 'log_loss'].includes(p.train.primary_metric);
      if (classification !== (p.task.type === 'classification'))
        ctx.addIssue({
          code: 'custom',
          path: ['train', 'primary_metric'],
          message: `${p.train.primary_metric} does not fit a ${p.task.type} task (classification: roc_auc, pr_auc, log_loss; regression: rmse, mae)`,
        });
    }
    for (const k of p.split.hash_key ?? [])
      if (!schemaCols.includes(k))
        ctx.addIssue({
          code: 'custom',
          path: ['split', 'hash_key'],
          message: `"${k}" is not a column of validate.schema`,
        });
  });

export type Params = z.infer<typeof paramsSchema>;
export type ColumnRule = z.infer<typeof columnSchema>;
export type FeatureParams = z.infer<typeof featureSchema>;

export function parseParams(text: string, where = 'params.yaml'): Params {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new Error(`${where} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const result = paramsSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${where} has ${lines.length} problem(s):\n${lines.join('\n')}`);
  }
  return result.data;
}

export async function loadParams(path = 'params.yaml'): Promise<Params> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`cannot read ${path}; run from the repository root or pass the path of your params file`);
  }
  return parseParams(text, path);
}
