/**
 * The up-front check of `npm start` and `npm run pipeline`: params.yaml against itself (the
 * schema and the checks between keys, core/schemas/params.ts) and against the data it names (the
 * source's header and first records for `npm start`, the raw store's for `npm run pipeline`),
 * before any batch is ingested or any stage runs. Every problem is reported at once, each naming
 * its key, the value found there and the fix, instead of one per run, deep inside a stage.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { validateTable } from '../core/data/validation.ts';
import {
  checkParams,
  columnSchema,
  type ColumnRule,
  ParamsError,
  parseParamsYaml,
  readParamsText,
  type Params,
  type ParamsProblem,
} from '../core/schemas/params.ts';
import { ISSUE_COLUMN, ROW_COLUMN } from '../core/data/csv.ts';
import { openParquet, readParquetTable } from '../core/data/parquet.ts';
import type { Column, ColumnType, Table } from '../core/data/table.ts';
import type { Logger } from '../core/platform/log.ts';
import { isPlainObject, sectionOf } from '../core/platform/objects.ts';
import { RAW_DIR } from './contracts/paths.ts';
import { PIPELINE_STAGES } from './contracts/index.ts';
import { readManifest } from './contracts/raw-store.ts';
import { peekSource, type UnfilledColumns } from './sources.ts';
import { columnKind, incomparability, incomparableMessage } from './comparable.ts';
import { openRegistry } from '../core/registry/index.ts';
import { readBundleMeta } from '../core/schemas/bundle-meta.ts';
import { readArtifactFile } from '../core/model/artifact-files.ts';
import { labelText } from '../core/model/targets.ts';

/** What the data looks like: its columns (types as read) and its first records. */
export interface DataPeek {
  /** How problems name the data: `the source vega-datasets:data/cars.csv`, `the raw store data/`. */
  label: string;
  columns: { name: string; type: ColumnType }[];
  sample: Table;
  /** The sample is every record (a sorted source's first records may show only some of its labels). */
  whole?: boolean;
  /** Required columns with no value in the sample, looked for further (training/sources.ts peekSource). */
  unfilled?: UnfilledColumns;
}

const isRecord = isPlainObject;
const section = sectionOf;

/** The non-missing values of a sample column, as text. */
function sampleValues(c: Column | undefined): string[] {
  if (!c) return [];
  if (c.type !== 'string') return Array.from(c.values, String).filter((v) => v !== 'NaN');
  const out: string[] = [];
  for (const code of c.codes) if (code >= 0) out.push(c.dict[code]);
  return out;
}

const isNumberText = (v: string): boolean => v.trim() !== '' && Number.isFinite(Number(v.trim()));

/** params.yaml (as parsed YAML) against the columns and first records of the data it will read. */
export function dataProblems(raw: unknown, data: DataPeek): ParamsProblem[] {
  const out: ParamsProblem[] = [];
  const names = data.columns.map((c) => c.name).filter((n) => n !== ROW_COLUMN && n !== ISSUE_COLUMN);
  const has = (n: string) => names.includes(n);
  const list = names.join(', ');
  // A header read as one column holding another separator: every column check below would fail on it.
  const separator = names.length === 1 ? [';', '\t', '|'].find((s) => names[0].includes(s)) : undefined;
  if (separator)
    return [
      {
        key: 'data.source',
        value: section(raw, 'data').source,
        message: `the header of ${data.label} reads as one column "${names[0].length > 60 ? `${names[0].slice(0, 57)}...` : names[0]}": its fields are separated by ${separator === '\t' ? 'tabs' : `"${separator}"`}, and CSV sources are read comma-separated; save the file with commas between fields (spreadsheets: "CSV, comma-delimited")`,
      },
    ];
  const timeColumn = section(raw, 'data').time_column;
  if (typeof timeColumn === 'string' && timeColumn && timeColumn !== ROW_COLUMN && !has(timeColumn))
    out.push({
      key: 'data.time_column',
      value: timeColumn,
      message: `${data.label} has no column "${timeColumn}" (its columns: ${list}); name the one that orders the records in time`,
    });
  const task = section(raw, 'task');
  const target = typeof task.target === 'string' && task.target ? task.target : undefined;
  if (target && !has(target))
    out.push({
      key: 'task.target',
      value: target,
      message: `${data.label} has no column "${target}" (its columns: ${list}); name the column to predict`,
    });
  else if (target) {
    const type = data.columns.find((c) => c.name === target)?.type;
    const values = sampleValues(data.sample.columns[target]);
    const labels = task.positive_class !== undefined || task.classes !== undefined;
    const text = type === 'timestamp' || (type === 'string' && values.length > 0 && !values.some(isNumberText));
    if (text && !(labels && type !== 'timestamp')) {
      const shown = [...new Set(values)].slice(0, 4).map((v) => JSON.stringify(v));
      const what = type === 'timestamp' ? 'timestamps' : `text (${shown.join(', ')}${values.length > 4 ? ', …' : ''})`;
      out.push({
        key: 'task.target',
        value: target,
        message:
          task.type === 'regression'
            ? `regression needs a numeric target, but "${target}" in ${data.label} holds ${what}; pick a numeric column`
            : `task.positive_above needs a numeric target, but "${target}" in ${data.label} holds ${what}; for labels set task.positive_class: <the positive label> (two classes) or task.classes: auto (three or more) instead`,
      });
    }
    out.push(...labelProblems(task, target, values, data.label, data.whole ?? false));
  }
  for (const [col, rule] of Object.entries(section(section(raw, 'validate'), 'schema'))) {
    if (has(col) || col === timeColumn || col === target) continue;
    if (isRecord(rule) && rule.required === false) continue;
    out.push({
      key: `validate.schema.${col}`,
      value: rule,
      message: `${data.label} has no column "${col}" (its columns: ${list}), so every row would be rejected as missing it; fix the name, remove it, or mark it required: false`,
    });
  }
  // A text target of a regression is said above, with its fix.
  const targetSaid = out.some((p) => p.key === 'task.target');
  const empty = data.unfilled?.everyRecord ? data.unfilled.names : [];
  for (const col of empty)
    out.push({
      key: `validate.schema.${col}`,
      value: section(section(raw, 'validate'), 'schema')[col],
      message: `"${col}" is empty in all ${data.unfilled!.rows} records of ${data.label}, and validate.schema.${col} requires a value, so every row would be rejected; fill the column in the source, or ${col === target ? 'set task.target to a filled column' : `drop ${col} from validate.schema and features`}`,
    });
  out.push(
    ...unreadableColumns(raw, data, has).filter(
      (p) =>
        !(targetSaid && p.key === `validate.schema.${target}`) && !empty.some((c) => p.key === `validate.schema.${c}`),
    ),
  );
  return out;
}

/**
 * Required columns of validate.schema: those whose every missing value validate rejects, looked
 * for when the first records of the source show them empty.
 */
export function requiredColumns(raw: unknown): string[] {
  return Object.entries(section(section(raw, 'validate'), 'schema')).flatMap(([col, rule]) => {
    const checked = columnSchema.safeParse(rule);
    return checked.success && checked.data.required ? [col] : [];
  });
}

/**
 * Required columns empty in the first records of a source too large to read whole here: not proof
 * (a column may be filled later), so said, not refused; validate rejects every row without a value.
 */
export function unfilledWarnings(data: DataPeek): string[] {
  const u = data.unfilled;
  if (!u || u.everyRecord) return [];
  return u.names.map(
    (col) =>
      `"${col}" is empty in the first ${u.rows} records of ${data.label} (only those are read before ingesting), and validate.schema.${col} requires a value: validate rejects every row without one; if the column is empty throughout, fill it in the source or drop ${col} from validate.schema and features`,
  );
}

const TYPE_HINTS: Record<string, string> = {
  timestamp: 'write it as ISO 8601 (2012-01-31, 2012-01-31 08:00 or 2012-01-31T08:00:00Z)',
  number: 'numbers take a dot for decimals and no thousands separator (1234.5)',
  integer: 'integers are whole numbers (set type: number for decimals)',
};

/**
 * Columns of validate.schema that no value of the data's first records passes as its declared
 * type: a date or decimal format the reader does not take rejects every row, found here before the
 * source is ingested. Only a wrong type is taken as conclusive from the first records (a column
 * may be empty or out of range early and filled later); every reason is when they are the whole source.
 */
function unreadableColumns(raw: unknown, data: DataPeek, has: (n: string) => boolean): ParamsProblem[] {
  const n = data.sample.length;
  if (n === 0) return [];
  const rules: Record<string, ColumnRule> = {};
  for (const [col, rule] of Object.entries(section(section(raw, 'validate'), 'schema'))) {
    const checked = columnSchema.safeParse(rule);
    if (has(col) && checked.success) rules[col] = checked.data;
  }
  let result;
  try {
    result = validateTable(data.sample, rules);
  } catch {
    return []; // a missing column is reported above
  }
  const out: ParamsProblem[] = [];
  for (const [col, counts] of Object.entries(result.byColumn)) {
    const rule = rules[col];
    if (!rule) continue;
    const wrongType = counts.wrong_type ?? 0;
    const total = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
    const conclusive = wrongType === n ? 'wrong_type' : data.whole && total >= n ? 'any' : undefined;
    if (!conclusive) continue;
    const example = result.rejects
      .flatMap((r) => r.problems)
      .find((p) => p.column === col && (conclusive === 'any' || p.reason === 'wrong_type'));
    const shown = example?.value != null ? ` (e.g. ${JSON.stringify(example.value)})` : '';
    const reasons = Object.entries(counts)
      .map(([r, k]) => `${r}: ${k}`)
      .join(', ');
    out.push({
      key: `validate.schema.${col}`,
      value: rule,
      message:
        conclusive === 'wrong_type'
          ? `none of the first ${n} values of "${col}" in ${data.label} reads as ${rule.type === 'integer' ? 'an' : 'a'} ${rule.type}${shown}, so every row would be rejected; ${TYPE_HINTS[rule.type] ?? 'fix the data'}, or change validate.schema.${col}.type`
          : `every record of ${data.label} fails "${col}" (${reasons}${shown}), so every row would be rejected; fix the data or the rule`,
    });
  }
  return out;
}

/**
 * task.positive_class must be one of the labels the data shows, and task.classes: auto needs at
 * least three; checked on the data's first records, so only where they are conclusive (a label
 * differing only in case; fewer than three labels in every record: a source sorted by its target
 * shows one or two in its first records); prepare checks the whole training split.
 */
export function labelProblems(
  task: Record<string, unknown>,
  target: string,
  values: string[],
  where: string,
  whole = true,
): ParamsProblem[] {
  if (task.type !== 'classification' || values.length === 0) return [];
  const seen = [...new Set(values.map((v) => labelText(isNumberText(v) ? Number(v) : v)))].sort();
  const list =
    seen
      .slice(0, 12)
      .map((v) => JSON.stringify(v))
      .join(', ') + (seen.length > 12 ? ', …' : '');
  const wanted = labelText(task.positive_class);
  const nearly = seen.find((v) => v.toLowerCase() === wanted.toLowerCase());
  // A rare positive label may first appear after the records read here; prepare checks the whole training split.
  if (task.positive_class !== undefined && !seen.includes(wanted) && (nearly !== undefined || seen.length <= 2))
    return [
      {
        key: 'task.positive_class',
        value: task.positive_class,
        message: `"${target}" in ${where} never holds ${JSON.stringify(wanted)} in its first ${values.length} records (labels seen: ${list}); set it to ${nearly !== undefined ? JSON.stringify(nearly) : 'one of those'}`,
      },
    ];
  if (task.classes === 'auto' && seen.length < 3 && values.length >= 100 && whole)
    return [
      {
        key: 'task.classes',
        value: task.classes,
        message: `"${target}" in ${where} shows ${seen.length} label(s) in its first ${values.length} records (${list}); multi-class needs at least 3: for two classes use task.positive_class: <one of them>`,
      },
    ];
  return [];
}

/**
 * Keys a pipeline stage reads (its contract, hence dvc.yaml's `params:`) that params.yaml lacks:
 * the schema lets a section such as `drift` be absent, but DVC, and the runner, refuse a stage
 * whose declared param is missing.
 */
export function stageParamProblems(raw: unknown): ParamsProblem[] {
  const missing = new Map<string, string[]>();
  for (const stage of PIPELINE_STAGES)
    for (const key of stage.paramKeys) {
      const [head, sub] = key.split('.');
      const sec = isRecord(raw) ? raw[head] : undefined;
      const absent = sec === undefined || sec === null || (sub !== undefined && isRecord(sec) && !(sub in sec));
      if (absent) missing.set(key, [...(missing.get(key) ?? []), stage.name]);
    }
  return [...missing].map(([key, stages]) => ({
    key,
    value: undefined,
    message: `the pipeline stage${stages.length > 1 ? 's' : ''} ${stages.join(', ')} read${stages.length > 1 ? '' : 's'} it (dvc.yaml params), so it must be in params.yaml; add it (the repository's params.yaml and docs/examples/*/params.yaml show every section)`,
  }));
}

/**
 * dvc.yaml's model artifact against register.model_name: `npm run pipeline:gen` names it after
 * the params, so a renamed model needs dvc.yaml regenerated (DVC and GTO read that entry).
 */
export async function artifactNameProblems(repoRoot: string, raw: unknown): Promise<ParamsProblem[]> {
  const name = section(raw, 'register').model_name;
  if (typeof name !== 'string') return [];
  let pipeline: unknown;
  try {
    pipeline = parse(await readFile(join(repoRoot, 'dvc.yaml'), 'utf8'));
  } catch {
    return []; // no dvc.yaml, or a broken one (the runner says so)
  }
  const artifacts = Object.keys(section(pipeline, 'artifacts'));
  if (!artifacts.length || artifacts.includes(name)) return [];
  return [
    {
      key: 'register.model_name',
      value: name,
      message: `dvc.yaml names the model artifact ${artifacts.join(', ')} (its artifacts: entry, which DVC and GTO read); run \`npm run pipeline:gen\` to name it ${name}, and commit dvc.yaml with params.yaml`,
    },
  ];
}

export type PreflightData = 'source' | 'raw-store' | 'none';

export interface PreflightOptions {
  repoRoot: string;
  /** The params file, absolute or relative to repoRoot (default params.yaml). */
  paramsPath?: string;
  /**
   * What to check params against: `source` (data.source: what `npm start` ingests), `raw-store`
   * (`data/`: what the pipeline reads; skipped when there is none yet), or `none`.
   */
  against: PreflightData;
  /**
   * Also check that the production model of register.model_name in a local registry predicts the
   * same target from columns this data has (a run whose register stage will not run skips it).
   */
  registry?: boolean;
  /** For REGISTRY_URL (default: process.env). */
  env?: Record<string, string | undefined>;
  /** What the user runs again once the problems are fixed, as messages say it (e.g. `npm start`). */
  command?: string;
  log: Logger;
}

/**
 * The production model of register.model_name, when the registry is a local directory holding
 * one, against what params.yaml now describes: another target or missing input columns would make
 * the register stage refuse it after all the training; say so first (training/comparable.ts).
 */
export async function productionProblems(
  repoRoot: string,
  raw: unknown,
  env: Record<string, string | undefined>,
  command = 'the command',
): Promise<ParamsProblem[]> {
  const reg = section(raw, 'register');
  const task = section(raw, 'task');
  const name = reg.model_name;
  const url = env.REGISTRY_URL || reg.registry;
  if (typeof name !== 'string' || typeof url !== 'string' || /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return [];
  if (!existsSync(resolve(repoRoot, url))) return [];
  if (task.type !== 'classification' && task.type !== 'regression') return [];
  if (typeof task.target !== 'string') return [];
  const scratch = await mkdtemp(join(tmpdir(), 'preflight-'));
  try {
    const registry = await openRegistry(url, { baseDir: repoRoot });
    if (!(await registry.listModels()).includes(name)) return [];
    const prod = await registry.getStage(name, 'production');
    if (!prod) return [];
    const { dir } = await registry.fetchBundle(name, prod.version, join(scratch, 'bundle'), { inPlace: true });
    const [meta, spec] = await Promise.all([readBundleMeta(dir), readArtifactFile(dir, 'featureSpec', 'train')]);
    const columns = Object.fromEntries(
      Object.entries(section(section(raw, 'validate'), 'schema')).flatMap(([col, rule]) =>
        isRecord(rule) && typeof rule.type === 'string'
          ? [[col, columnKind(rule.type as Parameters<typeof columnKind>[0])]]
          : [],
      ),
    );
    const positive = typeof task.positive_above === 'number' ? task.positive_above : undefined;
    const positiveClass = task.positive_class !== undefined ? labelText(task.positive_class) : undefined;
    const reasons = incomparability(
      { task: meta.task, target: spec.target, input_schema: meta.input_schema },
      {
        task: task.type,
        target: {
          column: task.target,
          positive_above: positive,
          positive_class: positiveClass,
          ...(task.classes === 'auto' ? { classes: 'auto' as const } : {}),
        },
        columns,
      },
    );
    if (!reasons.length) return [];
    return [
      {
        key: 'register.model_name',
        value: name,
        message: incomparableMessage(name, prod.version, reasons, `${command} again`),
      },
    ];
  } catch {
    return []; // an unreadable registry is the register stage's to report
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function peekRawStore(repoRoot: string, raw: unknown): Promise<DataPeek | ParamsProblem | null> {
  let manifest;
  try {
    manifest = await readManifest(repoRoot);
  } catch {
    return null; // a damaged manifest is the validate stage's to report, with its fix
  }
  if (!manifest?.batches.length) return null;
  const source = section(raw, 'data').source;
  if (typeof source === 'string' && source !== manifest.source.uri) return sourceMismatch(source, manifest.source.uri);
  const pq = await openParquet(join(repoRoot, RAW_DIR, manifest.batches[0].file)).catch(() => null);
  if (!pq) return null;
  return {
    label: `the raw store ${RAW_DIR}/ (from ${manifest.source.uri})`,
    columns: pq.columns,
    sample: await readParquetTable(pq, { rowStart: 0, rowEnd: Math.min(200, pq.rows) }),
    whole: manifest.batches.length === 1 && pq.rows <= 200,
  };
}

function sourceMismatch(source: string, held: string): ParamsProblem {
  return {
    key: 'data.source',
    value: source,
    message: `the raw store ${RAW_DIR}/ holds records of ${held}, and one store never mixes two sources; move ${RAW_DIR}/ and data.dvc aside (or delete them) and run \`npm start\` (or \`npm run ingest\`) to ingest the new source, or set data.source back`,
  };
}

async function peekConfiguredSource(
  repoRoot: string,
  raw: unknown,
  log: Logger,
): Promise<{ peek: DataPeek | null; problems: ParamsProblem[] }> {
  const data = section(raw, 'data');
  const source = data.source;
  if (typeof source !== 'string' || !source) return { peek: null, problems: [] };
  const format = data.format === 'csv' || data.format === 'parquet' || data.format === 'json' ? data.format : 'auto';
  const maxField = section(raw, 'validate').max_field_bytes;
  const manifest = await readManifest(repoRoot).catch(() => null);
  // A store of another source is one problem; the new source is still read, so whatever else is
  // wrong with it (not found, columns the schema lacks) is listed with it, not after it is fixed.
  const mismatch =
    manifest?.batches.length && manifest.source.uri !== source ? [sourceMismatch(source, manifest.source.uri)] : [];
  try {
    const peek = await peekSource(source, format, {
      repoRoot,
      log,
      maxFieldBytes: typeof maxField === 'number' && maxField > 0 ? maxField : 4096,
      required: requiredColumns(raw),
    });
    return { peek: { label: `the source ${source}`, ...peek }, problems: mismatch };
  } catch (err) {
    return {
      peek: null,
      problems: [
        ...mismatch,
        { key: format === 'auto' ? 'data.source' : 'data.format', value: source, message: (err as Error).message },
      ],
    };
  }
}

/** Every problem of params.yaml, checked against itself and (see `against`) the data; an empty list when it is ready. */
export async function preflightProblems(
  options: PreflightOptions,
): Promise<{ params: Params | null; problems: ParamsProblem[]; where: string }> {
  const where = options.paramsPath ?? 'params.yaml';
  const raw = parseParamsYaml(await readParamsText(resolve(options.repoRoot, where)), where);
  const { params, problems } = checkParams(raw);
  const known = new Set(problems.map((p) => p.key));
  if (!known.has('(root)')) problems.push(...stageParamProblems(raw).filter((p) => !known.has(p.key)));
  // An invalid model name is reported once, by the schema: pipeline:gen could not name the artifact after it either.
  if (!known.has('register.model_name')) problems.push(...(await artifactNameProblems(options.repoRoot, raw)));
  let peek: DataPeek | ParamsProblem | null = null;
  if (options.against === 'source') {
    const read = await peekConfiguredSource(options.repoRoot, raw, options.log);
    problems.push(...read.problems);
    peek = read.peek;
  } else if (options.against === 'raw-store') peek = await peekRawStore(options.repoRoot, raw);
  if (peek && 'key' in peek) problems.push(peek);
  else if (peek) {
    problems.push(...dataProblems(raw, peek));
    for (const warning of unfilledWarnings(peek)) options.log.warn(warning);
  }
  if (options.registry)
    problems.push(...(await productionProblems(options.repoRoot, raw, options.env ?? process.env, options.command)));
  return { params: problems.length ? null : params, problems, where };
}

/** The checked params, or a ParamsError listing every problem (key, value, fix). */
export async function preflight(options: PreflightOptions): Promise<Params> {
  const { params, problems, where } = await preflightProblems(options);
  if (!params) throw new ParamsError(where, problems);
  options.log.info(
    `${where} checked${options.against === 'none' ? '' : ` against ${options.against === 'source' ? 'the source' : 'the raw store'}`}: no problems`,
  );
  return params;
}
