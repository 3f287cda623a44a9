/**
 * params.yaml: the single home of pipeline parameters, validated at load time so a typo fails
 * with the path of the bad key instead of deep inside a stage.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { PRIMARY_METRICS } from './metric-directions.ts';
import { isPlainObject, sectionOf } from '../platform/objects.ts';
import { parseTimestamp } from '../platform/time.ts';

export const columnSchema = z
  .object({
    type: z.enum(['number', 'integer', 'timestamp', 'category', 'string']),
    required: z.boolean().default(true),
    min: z.union([z.number(), z.string()]).optional(),
    max: z.union([z.number(), z.string()]).optional(),
    allowed: z.array(z.string()).optional(),
    pattern: z.string().optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    // A range whose min is above its max rejects every value: said here, not by validate after ingesting.
    const at = (v: number | string | undefined) => (typeof v === 'string' ? parseTimestamp(v) : (v ?? NaN));
    if (at(rule.min) > at(rule.max))
      ctx.addIssue({
        code: 'custom',
        path: ['max'],
        message: `max ${JSON.stringify(rule.max)} is below min ${JSON.stringify(rule.min)}: the range would reject every value; swap them or fix one`,
      });
  });

/** The parts a datetime feature can be broken into (core/model/features.ts computes them, UTC). */
export const DATETIME_PARTS = ['hour', 'day_of_week', 'month', 'day_of_month', 'minute_of_day'] as const;

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
      // A combination is kept only when it occurs on at least this many distinct days of data.time_column (not one date's events).
      min_days: z.number().int().min(0).optional(),
    })
    .strict(),
]);

/** The kinds of model a candidate can be (a candidate's `model`, a bundle's `model_type`): networks (core/model/network.ts) or gradient-boosted trees (training/gbdt/). */
export const modelKindSchema = z.enum(['logistic', 'mlp', 'gbdt']);

/** Keys that apply to networks only, and to gradient-boosted trees only (a candidate naming the other kind's keys is refused). */
const NETWORK_KEYS = ['hidden', 'embedding_dim', 'dropout', 'l2', 'wide', 'lr_schedule'] as const;
const GBDT_KEYS = [
  'max_iter',
  'max_leaf_nodes',
  'max_depth',
  'min_samples_leaf',
  'l2_regularization',
  'max_bins',
  'patience',
  'max_cat_threshold',
  'min_category_count',
  'cat_smooth',
  'native_max_categories',
  'high_cardinality',
  'target_smoothing',
  'target_folds',
] as const;

const posInt = z.number().int().positive();
const candidateFields = {
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . -'),
  model: modelKindSchema,
  learning_rate: z.number().positive().optional(),
  hidden: z.array(z.number().int().positive()).optional(),
  embedding_dim: z.number().int().positive().optional(),
  dropout: z.number().min(0).lt(1).optional(),
  l2: z.number().min(0).optional(),
  wide: z.boolean().optional(),
  lr_schedule: z.enum(['constant', 'cosine']).optional(),
  // model: gbdt (training/gbdt/fit-gbdt.ts has the defaults and what each does).
  max_iter: posInt.optional(),
  max_leaf_nodes: z.number().int().min(2).optional(),
  max_depth: z.number().int().min(0).optional(),
  min_samples_leaf: posInt.optional(),
  l2_regularization: z.number().min(0).optional(),
  max_bins: z.number().int().min(3).max(255).optional(),
  patience: posInt.optional(),
  max_cat_threshold: posInt.optional(),
  min_category_count: posInt.optional(),
  cat_smooth: z.number().min(0).optional(),
  native_max_categories: z.number().int().min(2).max(256).optional(),
  high_cardinality: z.enum(['drop', 'target_statistics', 'top_categories']).optional(),
  target_smoothing: z.number().min(0).optional(),
  target_folds: z.number().int().min(2).max(20).optional(),
  grid: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
};
/** The keys a `grid` can vary: every candidate key but the ones that identify it. */
const GRID_KEYS = Object.keys(candidateFields).filter((k) => k !== 'name' && k !== 'model' && k !== 'grid');
const candidateSchema = z
  .object(candidateFields)
  .strict()
  .superRefine((c, ctx) => {
    // A grid value is a candidate's value: checked as one, so a typo or a bad value fails here and not mid-training.
    for (const [key, values] of Object.entries(c.grid ?? {})) {
      if (!GRID_KEYS.includes(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['grid', key],
          message: `not a parameter a grid can vary; fix its spelling or remove it (${GRID_KEYS.join(', ')})`,
        });
        continue;
      }
      const field = candidateFields[key as keyof typeof candidateFields];
      for (const [i, v] of values.entries()) {
        const checked = field.safeParse(v);
        if (!checked.success)
          ctx.addIssue({
            code: 'custom',
            path: ['grid', key, i],
            message: `${checked.error.issues[0]?.message ?? 'not a valid value'}; every grid value must be a valid ${key}`,
          });
      }
    }
    const foreign = c.model === 'gbdt' ? NETWORK_KEYS : GBDT_KEYS;
    for (const key of foreign)
      if (c[key] !== undefined || (c.grid && key in c.grid))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message:
            c.model === 'gbdt'
              ? `${key} applies to networks (model: mlp | logistic), not to model: gbdt; remove it (gbdt keys: ${GBDT_KEYS.join(', ')})`
              : `${key} applies to model: gbdt only; remove it, or set model: gbdt`,
        });
  });

const trainSchema = z
  .object({
    primary_metric: z.enum(PRIMARY_METRICS),
    seed: z.number().int(),
    max_epochs: z.number().int().min(1),
    patience: z.number().int().min(1),
    batch_size: z.number().int().min(1),
    class_weight: z.enum(['balanced', 'none']).default('balanced'),
    golden_examples: z.number().int().min(1).max(100).default(8),
    // The train stage holds at most this many rows of the train / validation split, evenly spaced (training/split-rows.ts): its memory stays flat in rows.
    // Above max_rows the networks stream every training row each epoch (training/stream-epochs.ts); the trees fit the held rows.
    max_rows: posInt.default(2_200_000),
    max_validation_rows: posInt.default(500_000),
    // A network stops once a tree candidate beside it (or a network before it) has a validation metric
    // better than it could reach by max_epochs at its recent pace (training/prune.ts); false: every candidate trains to its own end.
    prune: z.boolean().default(true),
    // After selection, the winner takes `epochs` more passes over the validation rows (the latest data) at learning_rate_factor × its rate; 0 epochs: off.
    recent_refit: z
      .object({ epochs: z.number().int().min(0).max(20), learning_rate_factor: z.number().positive().max(1) })
      .strict()
      .optional(),
    // Above max_rows training rows, every candidate fits a seeded sample of max_rows rows and only the winner on validation fits all (training/select/screening.ts).
    screening: z
      .object({ max_rows: z.number().int().min(1000) })
      .strict()
      .optional(),
    // Up to max_rows train + validation rows, every candidate is kept and the bundle serves their weighted mean, the weights
    // from 5-fold out-of-fold outputs (training/select/blend.ts): on a small table one validation split is too few rows to choose by.
    blend: z
      .object({ max_rows: z.number().int().min(0) })
      .strict()
      .optional(),
    // For these tasks, when train.blend does not apply (more rows, or no train.blend), every candidate is kept and the bundle
    // serves their weighted mean, the weights chosen on the validation split's outputs before any refit (training/select/blend.ts).
    validation_blend: z.enum(['off', 'regression', 'all']).default('regression'),
    candidates: z.array(candidateSchema).min(1),
  })
  .strict();

const registerSchema = z
  .object({
    model_name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9-]*$/,
        'lowercase letters, digits and - only (it names registry folders, git tags and Kubernetes objects); e.g. my-model',
      ),
    registry: z.string().min(1),
    min_improvement: z.number().min(0),
    latency_budget_ms: z.number().positive(),
  })
  .strict();

export type CandidateParams = z.infer<typeof candidateSchema>;

/** A candidate's grid as one set of values per combination, in a stable order ([{}] without a grid). */
export function gridCombos(grid: Record<string, readonly unknown[]> | undefined): Record<string, unknown>[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid ?? {}))
    combos = combos.flatMap((combo) => values.map((v) => ({ ...combo, [key]: v })));
  return combos;
}

/** The name a grid combination trains under: `gbdt[learning_rate=0.1,max_leaf_nodes=63]`. */
export function comboName(base: string, combo: Record<string, unknown>): string {
  const suffix = Object.entries(combo)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('-') : String(v)}`)
    .join(',');
  return suffix ? `${base}[${suffix}]` : base;
}

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

const SHARE = 'a share of the rows, from 0 to 1 (0.02 is 2 %)';
const FRACTION = 'a share of the records, above 0 and below 1 (0.15 is 15 %)';

export const paramsSchema = z
  .object({
    data: z
      .object({
        source: z.string().min(1),
        format: z.enum(['auto', 'csv', 'parquet', 'json']).default('auto'),
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
        max_reject_rate: z.number().min(0, SHARE).max(1, SHARE),
        max_field_bytes: z.number().int().positive().default(4096),
        schema: z.record(z.string(), columnSchema),
      })
      .strict(),
    task: z
      .object({
        type: z.enum(['classification', 'regression']),
        target: z.string().min(1),
        /** Binary: label 1 when a numeric target is above this. */
        positive_above: z.number().optional(),
        /** Binary: label 1 when the label equals this (text, true/false, or an integer code). */
        positive_class: z.union([z.string().min(1), z.boolean(), z.number().int()]).optional(),
        /** Multi-class (3 or more classes): the class vocabulary is fitted on the training split. */
        classes: z.literal('auto').optional(),
      })
      .strict(),
    features: z.record(z.string(), featureSchema),
    split: z
      .object({
        method: z.enum(['time', 'hash']),
        validation_fraction: z.number().gt(0, FRACTION).lt(1, FRACTION),
        test_fraction: z.number().gt(0, FRACTION).lt(1, FRACTION),
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
  .strict();

export type Params = z.infer<typeof paramsSchema>;
export type ColumnRule = z.infer<typeof columnSchema>;
export type FeatureParams = z.infer<typeof featureSchema>;

/** The primary metrics that fit each task (multi-class: `task.classes`; roc_auc is macro one-vs-rest there). */
export const TASK_METRICS = {
  classification: ['roc_auc', 'pr_auc', 'log_loss'],
  regression: ['rmse', 'mae'],
  multiclass: ['macro_f1', 'accuracy', 'log_loss', 'roc_auc'],
} as const satisfies Record<Params['task']['type'] | 'multiclass', readonly (typeof PRIMARY_METRICS)[number][]>;

/** How the task's labels are defined: the classification keys, exactly one of which a classification sets. */
export const LABEL_KEYS = ['positive_above', 'positive_class', 'classes'] as const;

/** The validate.schema types a numeric target (and a numeric feature) may have. */
const NUMERIC_TYPES = ['number', 'integer'];

/** One thing wrong in params.yaml: the key, the value found there (undefined: missing) and what to do. */
export interface ParamsProblem {
  /** Dotted path of the key, e.g. `task.target` (`(root)` for the whole file). */
  key: string;
  value?: unknown;
  /** What is wrong, then how to fix it. */
  message: string;
}

/** A value as a problem line shows it: compact, one line, cut when long. */
export function showValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = '(a value that cannot be shown)'; // a cyclic YAML alias
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function formatParamsProblems(where: string, problems: readonly ParamsProblem[]): string {
  const lines = problems.map((p) => `  - ${p.key} = ${showValue(p.value)}: ${p.message}`);
  return `${where} has ${problems.length} problem(s); fix them all, then run again:\n${lines.join('\n')}`;
}

/** params.yaml with problems: every one of them, each naming its key, its value and the fix. */
export class ParamsError extends Error {
  override name = 'ParamsError';
  constructor(
    readonly where: string,
    readonly problems: readonly ParamsProblem[],
  ) {
    super(formatParamsProblems(where, problems));
  }
}

const isRecord = isPlainObject;
const section = sectionOf;
const text = (x: unknown): string | undefined => (typeof x === 'string' && x.length > 0 ? x : undefined);

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** zod's issues as problems, each with the value at its path and a fix where zod's wording has none. */
function schemaProblems(raw: unknown, issues: readonly z.core.$ZodIssue[]): ParamsProblem[] {
  return issues.flatMap((issue): ParamsProblem[] => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((k) => ({
        key: [...path, k].join('.'),
        value: valueAt(raw, [...issue.path, k]),
        message: path.length
          ? 'not a key of this section; remove it or fix its spelling'
          : `not a section of params.yaml (its sections: ${Object.keys(paramsSchema.shape).join(', ')}); remove it or fix its spelling`,
      }));
    const value = valueAt(raw, issue.path);
    const key = path.join('.') || '(root)';
    if (issue.code === 'invalid_type' && value === undefined)
      return [{ key, value, message: `required (${issue.expected}); add it` }];
    return [{ key, value, message: issue.message }];
  });
}

/**
 * The checks between keys (a column named in one section must exist in another, the metric must
 * fit the task…), run on the raw file so they are reported together with any schema problem
 * instead of after it is fixed. Each check looks only at values of the right shape; a wrong
 * shape is the schema's problem to report.
 */
/** data.time_column for a table without time: the source's record order. */
export const ROW_ORDER = '__row';

export function crossProblems(raw: unknown): ParamsProblem[] {
  const out: ParamsProblem[] = [];
  const add = (key: string, value: unknown, message: string) => out.push({ key, value, message });
  const schema = section(section(raw, 'validate'), 'schema');
  const cols = Object.keys(schema);
  const colList = cols.length ? cols.join(', ') : 'none declared';
  const typeOf = (col: string): string | undefined => {
    const rule = schema[col];
    return isRecord(rule) && typeof rule.type === 'string' ? rule.type : undefined;
  };
  const data = section(raw, 'data');
  const timeColumn = text(data.time_column);
  // `__row` (the record's position in the source, core/data/csv.ts ROW_COLUMN) orders a table without a time column.
  if (timeColumn && timeColumn !== ROW_ORDER && !cols.includes(timeColumn))
    add(
      'data.time_column',
      timeColumn,
      `not a column of validate.schema (${colList}); declare it there (type: timestamp), name one of those, or ${ROW_ORDER} for the source's record order`,
    );

  const task = section(raw, 'task');
  const taskType = task.type === 'classification' || task.type === 'regression' ? task.type : undefined;
  const target = text(task.target);
  if (target && !cols.includes(target))
    add(
      'task.target',
      target,
      `not a column of validate.schema (${colList}); declare it there (type: number) or name one of those`,
    );
  const targetType = target ? typeOf(target) : undefined;
  const labelKeys = LABEL_KEYS.filter((k) => task[k] !== undefined);
  const numericTarget = taskType === 'regression' || labelKeys[0] === 'positive_above';
  if (taskType && target && targetType && numericTarget && !NUMERIC_TYPES.includes(targetType))
    add(
      'task.target',
      target,
      taskType === 'regression'
        ? `a regression target must be numeric, but validate.schema.${target}.type is ${targetType}; pick a number or integer column (or set task.type: classification with task.positive_class or task.classes: auto for labels)`
        : `task.positive_above needs a numeric target, but validate.schema.${target}.type is ${targetType}; for labels use task.positive_class: <the positive label> (two classes) or task.classes: auto (three or more) instead`,
    );
  if (taskType && target && targetType === 'timestamp' && !numericTarget)
    add('task.target', target, `a timestamp column cannot be a class label; pick a category, string or integer column`);
  if (taskType === 'classification' && labelKeys.length !== 1)
    add(
      labelKeys.length ? `task.${labelKeys.join('/')}` : 'task.positive_above',
      labelKeys.length ? Object.fromEntries(labelKeys.map((k) => [k, task[k]])) : undefined,
      `classification needs exactly one of: positive_above: <number> (label 1 when ${target ?? 'task.target'} is above it, e.g. 15), positive_class: <label> (two classes, e.g. rain or true), classes: auto (three or more classes, softmax); ${labelKeys.length ? 'keep one' : 'add one'}, or set task.type: regression to predict a number`,
    );
  if (taskType === 'regression')
    for (const k of labelKeys)
      add(`task.${k}`, task[k], 'applies to classification only; remove it, or set task.type: classification');
  const multiclass = taskType === 'classification' && labelKeys.length === 1 && labelKeys[0] === 'classes';
  // The labels validate lets through, when the schema lists them: the positive one must be among them.
  const targetRule = target ? schema[target] : undefined;
  const allowed =
    isRecord(targetRule) && Array.isArray(targetRule.allowed) && targetRule.allowed.every((a) => typeof a === 'string')
      ? targetRule.allowed
      : undefined;
  const positive = task.positive_class;
  if (
    taskType === 'classification' &&
    allowed &&
    (typeof positive === 'string' || typeof positive === 'number' || typeof positive === 'boolean')
  ) {
    const wanted = String(positive).trim();
    if (!allowed.includes(wanted)) {
      const nearly = allowed.find((a) => a.toLowerCase() === wanted.toLowerCase());
      add(
        'task.positive_class',
        task.positive_class,
        `validate.schema.${target}.allowed (${allowed.join(', ')}) does not list it, so no row could be positive; set it to ${nearly ?? 'one of those'}`,
      );
    }
  }
  // A threshold outside the range validate lets through leaves one label only.
  const above = task.positive_above;
  if (taskType === 'classification' && typeof above === 'number' && isRecord(targetRule)) {
    const { min, max } = targetRule;
    if (typeof max === 'number' && above >= max)
      add(
        'task.positive_above',
        above,
        `validate.schema.${target}.max is ${max}, so no row could be above it and every label would be 0; set it below ${max}`,
      );
    else if (typeof min === 'number' && above < min)
      add(
        'task.positive_above',
        above,
        `validate.schema.${target}.min is ${min}, so every row would be above it and every label 1; set it to ${min} or more`,
      );
  }
  if (multiclass && allowed && new Set(allowed).size < 3)
    add(
      'task.classes',
      task.classes,
      `validate.schema.${target}.allowed lists ${new Set(allowed).size} label(s) (${allowed.join(', ')}); multi-class needs at least 3: for two classes use task.positive_class: <one of them>`,
    );

  const features = section(raw, 'features');
  for (const [f, fp] of Object.entries(features)) {
    if (!isRecord(fp)) continue;
    if (fp.kind === 'cross') {
      if (!Array.isArray(fp.columns)) continue;
      for (const c of fp.columns) {
        if (typeof c !== 'string') continue;
        const [col, part] = c.split('.');
        const base = features[col];
        const ok =
          isRecord(base) &&
          (part
            ? base.kind === 'datetime' && Array.isArray(base.parts) && base.parts.includes(part)
            : base.kind === 'categorical');
        if (!ok)
          add(
            `features.${f}.columns`,
            fp.columns,
            `"${c}" must name a categorical feature or a datetime part (e.g. date.hour) declared in features`,
          );
      }
      continue;
    }
    if (!cols.includes(f)) {
      add(
        `features.${f}`,
        fp,
        `feature "${f}" is not a column of validate.schema (${colList}); declare the column there or remove the feature`,
      );
      continue;
    }
    if (f === target) {
      add(
        `features.${f}`,
        fp,
        `the target "${f}" cannot also be a feature (it would leak the answer); remove it from features`,
      );
      continue;
    }
    const t = typeOf(f);
    // A type the schema does not know (float, date…) is the schema's problem, with the types there are.
    const known = t !== undefined && (columnSchema.shape.type.options as readonly string[]).includes(t);
    const fits =
      !known ||
      (fp.kind === 'numeric' && (NUMERIC_TYPES.includes(t) || t === 'timestamp')) ||
      (fp.kind === 'categorical' && (t === 'category' || t === 'string')) ||
      (fp.kind === 'datetime' && t === 'timestamp') ||
      !['numeric', 'categorical', 'datetime'].includes(String(fp.kind));
    if (!fits)
      add(
        `features.${f}.kind`,
        fp.kind,
        `a ${String(fp.kind)} feature cannot read a ${t} column (validate.schema.${f}.type); use kind: ${NUMERIC_TYPES.includes(t) ? 'numeric' : t === 'timestamp' ? 'datetime' : 'categorical'}`,
      );
  }

  const split = section(raw, 'split');
  const v = split.validation_fraction;
  const t = split.test_fraction;
  const share = (x: unknown): x is number => typeof x === 'number' && x > 0 && x < 1; // else the schema says so
  if (share(v) && share(t) && v + t >= 0.9)
    add(
      'split',
      { validation_fraction: v, test_fraction: t },
      'validation_fraction + test_fraction must leave at least 10% for training; lower them',
    );
  // hash_key only matters to a hash split; a time split ignores it (and so does this check).
  if (split.method === 'hash' && Array.isArray(split.hash_key))
    for (const k of split.hash_key)
      if (typeof k === 'string' && !cols.includes(k))
        add(
          'split.hash_key',
          split.hash_key,
          `"${k}" is not a column of validate.schema (${colList}); list columns of it (or remove hash_key to hash every column)`,
        );

  const train = section(raw, 'train');
  // Two candidates under one name would overwrite each other's model and metrics.
  if (Array.isArray(train.candidates)) {
    const seen = new Map<string, number>();
    for (const [i, c] of train.candidates.entries()) {
      if (!isRecord(c) || typeof c.name !== 'string') continue;
      const grid = isRecord(c.grid) && Object.values(c.grid).every(Array.isArray) ? c.grid : undefined;
      for (const combo of gridCombos(grid as Record<string, unknown[]> | undefined)) {
        const name = comboName(c.name, combo);
        const first = seen.get(name);
        if (first === undefined) seen.set(name, i);
        else if (first !== i)
          add(
            `train.candidates.${i}.name`,
            c.name,
            `train.candidates.${first} trains under the name ${name} too; give each entry of train.candidates its own name`,
          );
      }
    }
  }
  const metric = train.primary_metric;
  if (taskType && typeof metric === 'string' && (PRIMARY_METRICS as readonly string[]).includes(metric)) {
    const kind = multiclass ? 'multiclass' : taskType;
    const fitting: readonly string[] = TASK_METRICS[kind];
    if (!fitting.includes(metric))
      add(
        'train.primary_metric',
        metric,
        `does not fit a ${multiclass ? 'multi-class (task.classes)' : taskType} task; use one of ${fitting.join(', ')} (binary classification: ${TASK_METRICS.classification.join(', ')}; multi-class: ${TASK_METRICS.multiclass.join(', ')}; regression: ${TASK_METRICS.regression.join(', ')})`,
      );
  }
  return out;
}

/** Every problem of a parsed params.yaml (schema and cross-key checks together), and the params when there is none. */
export function checkParams(raw: unknown): { params: Params | null; problems: ParamsProblem[] } {
  // An empty file (or a list, or one word) is one problem, not one per missing section.
  if (!isRecord(raw))
    return {
      params: null,
      problems: [
        {
          key: '(root)',
          value: raw,
          message: `params.yaml must be a mapping of sections (${Object.keys(paramsSchema.shape).join(', ')})${raw === null || raw === undefined ? ', and it is empty' : ''}; start from the repository's params.yaml (git checkout params.yaml) or one of docs/examples/*/params.yaml`,
        },
      ],
    };
  // A time split ignores split.hash_key, so its shape is not checked either.
  let input = raw;
  const split = section(raw, 'split');
  if (isRecord(raw) && split.method === 'time' && 'hash_key' in split) {
    const { hash_key: _ignored, ...rest } = split;
    input = { ...raw, split: rest };
  }
  const result = paramsSchema.safeParse(input);
  const problems = [...(result.success ? [] : schemaProblems(input, result.error.issues)), ...crossProblems(input)];
  return { params: result.success && problems.length === 0 ? result.data : null, problems };
}

/** The YAML of a params file, or an error naming the file. */
export function parseParamsYaml(text: string, where = 'params.yaml'): unknown {
  try {
    return parse(text);
  } catch (err) {
    throw new Error(`${where} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
}

/** params.yaml text → Params, or a ParamsError listing every problem at once. */
export function parseParams(text: string, where = 'params.yaml'): Params {
  const { params, problems } = checkParams(parseParamsYaml(text, where));
  if (!params) throw new ParamsError(where, problems);
  return params;
}

export async function readParamsText(path = 'params.yaml'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new Error(`cannot read ${path}; run from the repository root or pass the path of your params file`);
  }
}

export async function loadParams(path = 'params.yaml'): Promise<Params> {
  return parseParams(await readParamsText(path), path);
}

/**
 * `register.model_name` of a params file, read without checking the rest (dvc.yaml's artifact and
 * the registry CLI's default follow it even while another key is being fixed); undefined when the
 * file or the key is absent.
 */
export async function readModelName(path = 'params.yaml'): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const raw = parseParamsYaml(text, path);
  const name = isRecord(raw) && isRecord(raw.register) ? raw.register.model_name : undefined;
  if (name === undefined) return undefined;
  const checked = registerSchema.shape.model_name.safeParse(name);
  if (!checked.success)
    throw new ParamsError(path, [
      { key: 'register.model_name', value: name, message: checked.error.issues[0]?.message ?? 'not a model name' },
    ]);
  return checked.data;
}
