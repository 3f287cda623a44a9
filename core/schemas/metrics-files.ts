/**
 * Every `metrics/*.json` the pipeline writes: its path, the stage that writes it and one zod
 * schema, used by the writers' types and by every reader (report, register, `.github/scripts`,
 * push-metrics, `npm start`; a bundle's bundle.json has its schema in core/schemas/bundle-meta.ts).
 * Objects keep fields the schema does not name (a newer writer may add some); a malformed file
 * fails with one error naming the file, the field and the stage to re-run.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../platform/atomic.ts';
import { asPlainObject, isPlainObject } from '../platform/objects.ts';
import { PRIMARY_METRICS } from './metric-directions.ts';

export const VALIDATE_METRICS = 'metrics/validate.json';
export const PREPARE_METRICS = 'metrics/prepare.json';
export const TRAIN_METRICS = 'metrics/train.json';
export const EXPERIMENTS_FILE = 'metrics/experiments.json';
export const EVALUATE_METRICS = 'metrics/evaluate.json';
export const PLOTS_DIR = 'metrics/plots';
export const DISTRIBUTIONS_FILE = 'metrics/feature-distributions.json';
export const REGISTER_METRICS = 'metrics/register.json';
export const DATA_DRIFT_METRICS = 'metrics/drift.json';

const num = z.number();
const nullableNumber = z.number().nullable();
/**
 * Written without its key when null (`dvc metrics show` drops nulls); read back as null, so
 * readers see one shape whether the file is new or older.
 */
const absentAsNull = nullableNumber.default(null);
/**
 * A set of names: written as an object whose keys are the names (`dvc metrics show` drops lists),
 * read back as the list of names; older files hold the list itself.
 */
const namesList = z.preprocess((v) => (isPlainObject(v) ? Object.keys(v) : v), z.array(z.string()));
/** A list written as an object keyed by name (`dvc metrics show` drops lists), read back as the list. */
const keyedList = <T extends z.ZodType>(item: T, fromEntry: (key: string, value: unknown) => unknown = (_, v) => v) =>
  z.preprocess((v) => (isPlainObject(v) ? Object.entries(v).map(([k, x]) => fromEntry(k, x)) : v), z.array(item));
const count = z.number().int().min(0);
export const confusionSchema = z.object({ tp: count, fp: count, tn: count, fn: count });
/** A confusion matrix's counts at one threshold (what core/model/quality-metrics.ts computes). */
export type Confusion = z.infer<typeof confusionSchema>;
/** Metric name → value (numbers, null for an undefined metric, `confusion` counts). */
export const metricMap = z.record(z.string(), z.unknown());
export const taskSchema = z.enum(['classification', 'regression']);
const task = taskSchema;

export const validateFileSchema = z.looseObject({
  rows_in: num,
  rows_valid: num,
  rows_rejected: num,
  reject_rate: num,
  max_reject_rate: num.optional(),
  rejects_by_reason: z.record(z.string(), num).default({}),
  /** Column → reject reason → rows (core/data/validation.ts byColumn). */
  rejects_by_column: z.record(z.string(), z.record(z.string(), num)).default({}),
  dropped_columns: namesList.default([]),
});

/** Split sizes, time ranges, positive rate or target mean per split, vocabulary sizes, OOV rates. */
export const prepareFileSchema = z.record(z.string(), z.union([z.string(), num, z.null()]));

export const trainFileSchema = z.looseObject({
  run_id: z.string().nullish(),
  backend: z.string().nullish(),
  candidates: num.optional(),
  selected: z.string().nullish(),
  primary_metric: z.string().optional(),
  higher_is_better: z.boolean().optional(),
  threshold: nullableNumber.optional(),
  train_seconds: nullableNumber.optional(),
});

/** A list-valued param is written as its JSON text (`dvc metrics show` drops lists) and read back as the list. */
const listParam = (v: unknown): unknown => {
  if (typeof v !== 'string' || !/^\[.*\]$/s.test(v)) return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

export const experimentRunSchema = z.looseObject({
  run_id: z.string(),
  candidate: z.string(),
  model: z.string(),
  params: z
    .record(z.string(), z.unknown())
    .default({})
    .transform((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, listParam(v)]))),
  epochs: num.nullish(),
  best_epoch: num.nullish(),
  duration_s: num.nullish(),
  backend: z.string().nullish(),
  rows_train: num.nullish(),
  rows_per_s: num.nullish(),
  /** A network stopped by train.prune: after which epoch, the rival's value, the value it could have reached. */
  pruned: z.object({ at_epoch: num, rival: num, reachable: num }).nullish(),
  val: metricMap.default({}),
  selected: z.boolean().default(false),
  git_commit: z.string().nullish(),
  data_md5: z.string().nullish(),
  time: z.string().nullish(),
  /** The model (register.model_name) and target the run trained: one log holds every model a repository trained. */
  model_name: z.string().nullish(),
  target: z.string().nullish(),
});
/**
 * Whether two runs of the experiment log trained the same model on the same target, so their
 * validation values can be compared. A run logged before runs named their model is comparable with none.
 */
export function sameModel(
  a: { model_name?: string | null; target?: string | null },
  b: { model_name?: string | null; target?: string | null },
): boolean {
  return !!a.model_name && a.model_name === b.model_name && a.target === b.target;
}
/** Runs written keyed by `<run_id> <candidate>` (`dvc metrics show` drops lists); read back as the list. */
export const experimentsFileSchema = z.looseObject({
  runs: keyedList(experimentRunSchema),
});

const edgeCaseExample = z.object({ case: z.string(), outcome: z.string(), detail: z.string() });

export const evaluateFileSchema = z.looseObject({
  task,
  model_name: z.string(),
  candidate: z.string().nullish(),
  version_hint: z.string().nullish(),
  threshold: nullableNumber.optional(),
  rows_test: num,
  primary_metric: z.enum(PRIMARY_METRICS),
  higher_is_better: z.boolean(),
  /** Metric name → value, and the confusion counts at the threshold (classification). */
  test: z.looseObject({ confusion: confusionSchema.optional() }),
  /** Row-level bootstrap 95% intervals of the threshold-free metrics: written `{ low, high }`, read as `[low, high]`. */
  test_ci: z
    .record(
      z.string(),
      z.preprocess((v) => (isPlainObject(v) && 'low' in v && 'high' in v ? [v.low, v.high] : v), z.tuple([num, num])),
    )
    .default({}),
  /** Each metric of the trivial predictor that fits it (see baseline_kinds). */
  baseline: metricMap,
  baseline_kind: z.string().nullish(),
  /** Metric → the baseline it comes from: majority_class (decisions), class_prior (probabilities), train_mean. Absent in older files. */
  baseline_kinds: z.record(z.string(), z.string()).optional(),
  /** The baselines' values: majority_class (0 or 1) and class_prior (train prevalence), or train_mean. */
  baseline_detail: z.record(z.string(), num).optional(),
  edge_cases: z
    .looseObject({
      total: num,
      predicted: num,
      rejected: num,
      failed: num,
      /** Written keyed by case (`dvc metrics show` drops lists), read back as the list. */
      examples: keyedList(edgeCaseExample, (c, v) => ({ case: c, ...(isPlainObject(v) ? v : {}) })).default([]),
    })
    .optional(),
  latency_ms: z.looseObject({ p50: num, p95: num, max: num.optional() }).optional(),
  /** Classification: expected calibration error and log loss of the served (calibrated) and raw scores. */
  calibration: z
    .looseObject({
      method: z.string(),
      ece: absentAsNull,
      ece_uncalibrated: absentAsNull,
      log_loss: absentAsNull,
      log_loss_uncalibrated: absentAsNull,
      log_loss_baseline: absentAsNull,
    })
    .optional(),
  /** Regression: how often the validation-residual interval holds on test. */
  intervals: z
    .looseObject({ nominal: num, test_coverage: absentAsNull, residual_quantiles: z.record(z.string(), num) })
    .optional(),
  golden_examples: z.looseObject({ count: num.optional(), reproduced: z.boolean() }).optional(),
  /** Optional wording for the two classes and the regression target's unit. */
  class_labels: z.object({ negative: z.string(), positive: z.string() }).optional(),
  target_unit: z.string().nullish(),
});

const gateSchema = z.object({ passed: z.boolean(), detail: z.string() });
export const registerFileSchema = z.looseObject({
  model_name: z.string(),
  registry: z.string().optional(),
  version: num,
  /** candidate: registered, no stage assigned (an experiment, or a run outside the train workflow). */
  decision: z.enum(['promoted', 'staging', 'rejected', 'candidate']),
  reason: z.string(),
  primary_metric: z.string().optional(),
  /** Absent (older files: null) when there was no production model. */
  production_before: z
    .looseObject({ version: num, metric: absentAsNull, metrics: z.record(z.string(), nullableNumber).optional() })
    .nullable()
    .default(null),
  candidate_metric: nullableNumber.optional(),
  delta: nullableNumber.optional(),
  min_improvement: num.optional(),
  gates: z.record(z.string(), gateSchema).default({}),
  /** Written as tag → action (`register`, `assign`, …; `dvc metrics show` drops lists), read as the tags in order. */
  gto_tags: namesList.default([]),
  /**
   * Stage → the registry's move this run made (from → to; null: empty), so `gh:tag` can check GTO's
   * tags still say `from` before tagging `to`. Absent in older files.
   */
  stage_changes: z.record(z.string(), z.looseObject({ from: absentAsNull, to: absentAsNull })).default({}),
});

export const dataDriftFileSchema = z.looseObject({
  status: z.enum(['ok', 'no_production_model']),
  production_version: absentAsNull,
  rows: num.optional(),
  dataset_drift: z.boolean().optional(),
  drift_share: num.optional(),
  drifted_features: namesList.optional(),
  features: z
    .record(
      z.string(),
      z.object({ method: z.string(), score: absentAsNull, threshold: num, drifted: z.boolean(), status: z.string() }),
    )
    .optional(),
});

export const distributionsFileSchema = z.record(
  z.string(),
  z.object({
    kind: z.string().default('numeric'),
    bins: z.array(z.object({ bin: z.string(), train: num, test: num })),
  }),
);

export const rocPlotSchema = z.array(z.object({ fpr: num, tpr: num, threshold: nullableNumber.default(null) }));
export const prPlotSchema = z.array(z.object({ recall: num, precision: num, threshold: nullableNumber.default(null) }));
export const calibrationPlotSchema = z.array(
  z.object({
    bin: num,
    lower: num,
    upper: num,
    mean_predicted: nullableNumber,
    fraction_positive: nullableNumber,
    count: num,
  }),
);
export const residualsPlotSchema = z.array(z.object({ bin: z.string(), count: num }));
/** Multi-class: one row per test record (thinned evenly past 20,000), for DVC's `confusion` template; empty otherwise. */
export const confusionPlotSchema = z.array(z.object({ actual: z.string(), predicted: z.string() }));

/**
 * Each file: where it lives, which stage writes it (what to re-run), its schema, and what DVC
 * makes of it (`metrics`: read by `dvc metrics show/diff`, which drops lists and nulls; `plots`:
 * `dvc plots`; `data`: an output only).
 */
export const METRICS_FILES = {
  validate: { path: VALIDATE_METRICS, stage: 'validate', schema: validateFileSchema, dvc: 'metrics' },
  prepare: { path: PREPARE_METRICS, stage: 'prepare', schema: prepareFileSchema, dvc: 'metrics' },
  train: { path: TRAIN_METRICS, stage: 'train', schema: trainFileSchema, dvc: 'metrics' },
  experiments: { path: EXPERIMENTS_FILE, stage: 'train', schema: experimentsFileSchema, dvc: 'metrics' },
  evaluate: { path: EVALUATE_METRICS, stage: 'evaluate', schema: evaluateFileSchema, dvc: 'metrics' },
  distributions: { path: DISTRIBUTIONS_FILE, stage: 'evaluate', schema: distributionsFileSchema, dvc: 'data' },
  roc: { path: `${PLOTS_DIR}/roc.json`, stage: 'evaluate', schema: rocPlotSchema, dvc: 'plots' },
  pr: { path: `${PLOTS_DIR}/pr.json`, stage: 'evaluate', schema: prPlotSchema, dvc: 'plots' },
  calibration: {
    path: `${PLOTS_DIR}/calibration.json`,
    stage: 'evaluate',
    schema: calibrationPlotSchema,
    dvc: 'plots',
  },
  calibrationBefore: {
    path: `${PLOTS_DIR}/calibration-uncalibrated.json`,
    stage: 'evaluate',
    schema: calibrationPlotSchema,
    dvc: 'plots',
  },
  residuals: { path: `${PLOTS_DIR}/residuals.json`, stage: 'evaluate', schema: residualsPlotSchema, dvc: 'plots' },
  confusion: { path: `${PLOTS_DIR}/confusion.json`, stage: 'evaluate', schema: confusionPlotSchema, dvc: 'plots' },
  register: { path: REGISTER_METRICS, stage: 'register', schema: registerFileSchema, dvc: 'metrics' },
  dataDrift: { path: DATA_DRIFT_METRICS, stage: 'register', schema: dataDriftFileSchema, dvc: 'metrics' },
} as const;

export type MetricsFileKind = keyof typeof METRICS_FILES;
/** What a reader gets (defaults filled in). */
export type MetricsFile<K extends MetricsFileKind> = z.output<(typeof METRICS_FILES)[K]['schema']>;
/** What a writer may write. */
export type MetricsFileInput<K extends MetricsFileKind> = z.input<(typeof METRICS_FILES)[K]['schema']>;
export type EvaluateFile = MetricsFile<'evaluate'>;
export type RegisterFile = MetricsFile<'register'>;
export type DataDriftFile = MetricsFile<'dataDrift'>;
export type ExperimentRun = z.output<typeof experimentRunSchema>;

export class MetricsFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** What went wrong reading a JSON file (for readers that word it themselves, like the report). */
export type JsonFileProblem =
  | { kind: 'missing' }
  | { kind: 'unreadable'; detail: string }
  | { kind: 'json'; detail: string }
  | { kind: 'shape'; field: string | null; detail: string };
export type JsonFileRead<T> = { ok: true; value: T } | { ok: false; problem: JsonFileProblem; error: MetricsFileError };

/** How a file is named in errors (`where`) and which stage writes it (`stage`: what to re-run). */
export interface FileOrigin {
  where: string;
  stage: string;
  /** What to do instead of re-running the stage (e.g. for a log the stage appends to). */ fix?: string;
}

const rerunStage = (stage: string) => `re-run the ${stage} stage (npm run pipeline -- ${stage})`;

function failed<T>(problem: JsonFileProblem, { where, stage, fix }: FileOrigin): JsonFileRead<T> {
  const field = problem.kind === 'shape' ? problem.field : null;
  const rerun = () => fix ?? rerunStage(stage);
  const message =
    problem.kind === 'missing'
      ? `${where} does not exist; ${rerun()}`
      : problem.kind === 'unreadable'
        ? `${where} cannot be read (${problem.detail})`
        : problem.kind === 'json'
          ? `${where} is not valid JSON (${problem.detail}); ${rerun()}`
          : `${where}: ${field ? `field \`${field}\`` : 'top level'}: ${problem.detail}; ${rerun()}`;
  return { ok: false, problem, error: new MetricsFileError(where, field, message) };
}

/** Check parsed JSON against `schema`; the first issue names its field. */
export function checkJson<T>(json: unknown, schema: z.ZodType<T, unknown>, origin: FileOrigin): JsonFileRead<T> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return failed(
    { kind: 'shape', field: issue.path.length ? issue.path.map(String).join('.') : null, detail: issue.message },
    origin,
  );
}

/** JSON text (a file's, or `git show <ref>:<path>`'s) checked against `schema`. */
export function checkJsonText<T>(text: string, schema: z.ZodType<T, unknown>, origin: FileOrigin): JsonFileRead<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return failed({ kind: 'json', detail: (err as Error).message }, origin);
  }
  return checkJson(json, schema, origin);
}

/** Read `file` and check it against `schema`; never throws. */
export async function readJsonFile<T>(
  file: string,
  schema: z.ZodType<T, unknown>,
  origin: FileOrigin,
): Promise<JsonFileRead<T>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return failed(
      code === 'ENOENT' ? { kind: 'missing' } : { kind: 'unreadable', detail: code ?? (err as Error).message },
      origin,
    );
  }
  return checkJsonText(text, schema, origin);
}

/** `kind`'s schema, typed by what it gives. */
const schemaOf = <K extends MetricsFileKind>(kind: K) =>
  METRICS_FILES[kind].schema as unknown as z.ZodType<MetricsFile<K>, unknown>;

/** The value of a read, or its error thrown. */
export const valueOf = <T>(r: JsonFileRead<T>): T => {
  if (!r.ok) throw r.error;
  return r.value;
};

/**
 * Where a metrics file is: in a repository's `metrics/` (`repo`), in another metrics directory
 * (`dir`, e.g. METRICS_DIR of a workflow), or at a path (`file`). Errors name it by its path in
 * the repository for `repo`, by its full path otherwise, or by `where` when given. `fix` replaces
 * "re-run the stage" in errors (for a log a stage appends to).
 */
export type MetricsLocation = ({ repo: string } | { dir: string } | { file: string }) & {
  where?: string;
  fix?: string;
};

/** Content already in hand: JSON text (e.g. `git show <ref>:<path>`) or parsed JSON; `where` names it in errors. */
export type MetricsContent = ({ text: string } | { json: unknown }) & { where?: string };

/** The file a location names, and how errors name it. */
export function locateMetricsFile(kind: MetricsFileKind, at: MetricsLocation): { file: string; where: string } {
  const path = METRICS_FILES[kind].path;
  const file = 'repo' in at ? join(at.repo, path) : 'dir' in at ? join(at.dir, path.slice('metrics/'.length)) : at.file;
  return { file, where: at.where ?? ('repo' in at ? path : file) };
}

/**
 * The one way to read a metrics file from disk: validated against its schema; what went wrong,
 * if anything, as a value (for readers that word it themselves, like the report). Never throws.
 */
export async function tryReadMetrics<K extends MetricsFileKind>(
  kind: K,
  at: MetricsLocation,
): Promise<JsonFileRead<MetricsFile<K>>> {
  const { file, where } = locateMetricsFile(kind, at);
  return readJsonFile(file, schemaOf(kind), { where, stage: METRICS_FILES[kind].stage, fix: at.fix });
}

/** A metrics file read and validated; null when it does not exist; any other problem thrown, naming file, field and fix. */
export async function readMetrics<K extends MetricsFileKind>(
  kind: K,
  at: MetricsLocation,
): Promise<MetricsFile<K> | null> {
  const r = await tryReadMetrics(kind, at);
  return !r.ok && r.problem.kind === 'missing' ? null : valueOf(r);
}

/** Validate metrics content already in hand as `kind` (default name in errors: the file's path). */
export function parseMetrics<K extends MetricsFileKind>(kind: K, content: MetricsContent): MetricsFile<K> {
  const origin = { where: content.where ?? METRICS_FILES[kind].path, stage: METRICS_FILES[kind].stage };
  return valueOf(
    'text' in content
      ? checkJsonText(content.text, schemaOf(kind), origin)
      : checkJson(content.json, schemaOf(kind), origin),
  );
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

/**
 * What `dvc metrics show` keeps of a metrics file, as DVC 3 reads it (`_extract_metrics` in
 * dvc/repo/metrics/show.py): numbers, strings and booleans inside objects; a list or a null is
 * dropped silently, and so is an object left empty.
 */
export function dvcMetricsView(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const m = dvcMetricsView(v);
    if (m !== undefined && !(typeof m === 'object' && m !== null && Object.keys(m).length === 0)) kept[k] = m;
  }
  return kept;
}

/** Dotted paths of the values `dvc metrics show` would drop: lists and nulls (an empty object holds nothing to lose). */
export function dvcDroppedPaths(value: unknown, path = ''): string[] {
  if (value === null || Array.isArray(value)) return [path || '(top level)'];
  if (typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => dvcDroppedPaths(v, path ? `${path}.${k}` : k));
}

/** `value` without the object keys whose value is null, at any depth. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

const asRecord = asPlainObject;

/** `names` as an object keyed by name (a later duplicate gets ` (2)`, ` (3)`, …), each with `valueOf(name)`. */
function keyed<T>(names: readonly string[], valueOf: (name: string, index: number) => T): Record<string, T> {
  const out: Record<string, T> = {};
  names.forEach((name, i) => {
    let key = name;
    for (let n = 2; key in out; n++) key = `${name} (${n})`;
    out[key] = valueOf(name, i);
  });
  return out;
}

/** GTO's action for a tag name (core/registry/gto.ts writes them): what `dvc metrics show` prints beside it. */
export function gtoTagAction(tag: string): 'register' | 'deregister' | 'assign' | 'unassign' {
  if (/!#\d+$/.test(tag)) return 'unassign';
  if (/#\d+$/.test(tag)) return 'assign';
  return tag.endsWith('!') ? 'deregister' : 'register';
}

/**
 * A metrics file as it is written: every list a reader wants becomes an object keyed by name,
 * every null an absent key, so `dvc metrics show` shows every value (the schemas read both forms).
 */
export function encodeForDvc(kind: MetricsFileKind, value: unknown): unknown {
  const v = { ...asRecord(value) };
  const names = (x: unknown): string[] => (Array.isArray(x) ? x.map(String) : []);
  switch (kind) {
    case 'validate':
      if (Array.isArray(v.dropped_columns)) v.dropped_columns = keyed(names(v.dropped_columns), () => 'dropped');
      break;
    case 'experiments':
      if (Array.isArray(v.runs)) {
        // A list-valued param (e.g. hidden: [64, 32]) is kept as its JSON text: shown, and readable.
        const runs = v.runs.map(asRecord).map((r): Record<string, unknown> => ({
          ...r,
          params: Object.fromEntries(
            Object.entries(asRecord(r.params)).map(([k, p]) => [k, Array.isArray(p) ? JSON.stringify(p) : p]),
          ),
        }));
        const byKey = keyed(
          runs.map((r) => `${String(r.run_id)} ${String(r.candidate)}`),
          (_, i) => runs[i],
        );
        v.runs = byKey;
      }
      break;
    case 'evaluate': {
      const ci = asRecord(v.test_ci);
      v.test_ci = Object.fromEntries(
        Object.entries(ci).map(([k, iv]) => [
          k,
          Array.isArray(iv) ? { low: iv[0] as unknown, high: iv[1] as unknown } : iv,
        ]),
      );
      const edge = asRecord(v.edge_cases);
      if (Array.isArray(edge.examples)) {
        const examples = edge.examples.map(asRecord);
        v.edge_cases = {
          ...edge,
          examples: keyed(
            examples.map((e) => String(e.case)),
            (_, i) => ({ outcome: examples[i].outcome, detail: examples[i].detail }),
          ),
        };
      }
      break;
    }
    case 'register':
      if (Array.isArray(v.gto_tags)) v.gto_tags = keyed(names(v.gto_tags), gtoTagAction);
      break;
    case 'dataDrift':
      if (Array.isArray(v.drifted_features)) {
        const features = asRecord(v.features);
        v.drifted_features = keyed(names(v.drifted_features), (f) => asRecord(features[f]).score ?? 'drifted');
      }
      break;
    default:
      break;
  }
  return METRICS_FILES[kind].dvc === 'metrics' ? withoutNulls(v) : value;
}

/**
 * The one way a stage writes a metrics file: encoded for DVC (encodeForDvc), checked against its
 * schema and against what `dvc metrics show` would drop (a writer bug fails the stage, naming the
 * field, instead of a number silently missing from `dvc metrics diff`), written atomically.
 */
export async function writeMetricsFile<K extends MetricsFileKind>(
  repoRoot: string,
  kind: K,
  /** Checked against the schema at run time (stages build these from computed values). */
  value: unknown,
): Promise<void> {
  const file = METRICS_FILES[kind];
  const encoded = encodeForDvc(kind, value);
  const parsed = file.schema.safeParse(encoded);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${file.path}: the ${file.stage} stage wrote an invalid \`${issue.path.join('.')}\`: ${issue.message}`,
    );
  }
  if (file.dvc === 'metrics') {
    const dropped = dvcDroppedPaths(encoded);
    if (dropped.length) {
      throw new Error(
        `${file.path}: \`dvc metrics show\` would drop ${dropped.join(', ')} (lists and nulls): write them as keyed objects or leave the key out`,
      );
    }
  }
  await writeJsonAtomic(join(repoRoot, file.path), encoded);
}
