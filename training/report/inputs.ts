/**
 * What the report reads: the JSON other stages wrote. Only `metrics/evaluate.json` is required;
 * every other file may be missing or unreadable, and the report then says so in its section.
 * Every file is checked by its one schema in core/schemas/metrics-files.ts (the raw manifest by its own).
 */
import { join } from 'node:path';
import type { z } from 'zod';
import {
  confusionOf,
  METRICS_FILES,
  metricOf,
  readJsonFile,
  tryReadMetrics,
  type JsonFileProblem,
  type Confusion,
  type EvaluateFile,
  type ExperimentRun,
  type MetricsFile,
  type RegisterFile,
} from '../../core/schemas/metrics-files.ts';
import { manifestSchema } from '../contracts/raw-store.ts';
import { RAW_MANIFEST } from '../contracts/paths.ts';

export type Evaluation = EvaluateFile;
export type Registration = RegisterFile;
export type { Confusion, ExperimentRun };
export type DataDrift = MetricsFile<'dataDrift'>;
export type ValidateSummary = MetricsFile<'validate'>;
export type Distributions = MetricsFile<'distributions'>;
export { confusionOf, metricOf };

/** A file the report could use: its value, or why there is none (for the reader, not a stack trace). */
export type Input<T> = { ok: true; path: string; value: T } | { ok: false; path: string; why: string };

/** Which stage writes each input (so a missing file points at the command that makes it): the shared schemas of core/schemas/metrics-files.ts. */
export const INPUTS = {
  ...METRICS_FILES,
  manifest: { path: RAW_MANIFEST, stage: 'ingest', schema: manifestSchema },
} as const;

type Inputs = typeof INPUTS;
export type ReportInputs = { evaluate: Evaluation } & {
  [K in Exclude<keyof Inputs, 'evaluate'>]: Input<z.infer<Inputs[K]['schema']>>;
};

async function load<K extends keyof Inputs>(repoRoot: string, key: K): Promise<Input<z.infer<Inputs[K]['schema']>>> {
  const { path, stage } = INPUTS[key];
  // Metrics files through their one reader; the raw manifest (not a metrics file) by its own schema.
  const read =
    key === 'manifest'
      ? await readJsonFile(join(repoRoot, path), manifestSchema, { where: path, stage })
      : await tryReadMetrics(key as Exclude<K, 'manifest'>, { repo: repoRoot });
  if (read.ok) return { ok: true, path, value: read.value as z.infer<Inputs[K]['schema']> };
  return { ok: false, path, why: problemText(path, stage, read.problem) };
}

/** The report's wording of a file it could not use. */
function problemText(path: string, stage: string, p: JsonFileProblem): string {
  switch (p.kind) {
    case 'missing':
      return `\`${path}\` is missing (the ${stage} stage writes it)`;
    case 'unreadable':
      return `\`${path}\` could not be read (${p.detail})`;
    case 'json':
      return `\`${path}\` is not valid JSON (${p.detail}); rerun the ${stage} stage`;
    case 'shape':
      return `\`${path}\` does not have the expected shape (${p.field ?? 'top level'}: ${p.detail}); rerun the ${stage} stage`;
  }
}

export async function loadReportInputs(repoRoot: string): Promise<ReportInputs> {
  const keys = Object.keys(INPUTS) as (keyof Inputs)[];
  const loaded = Object.fromEntries(await Promise.all(keys.map(async (k) => [k, await load(repoRoot, k)] as const)));
  const evaluate = loaded.evaluate as Input<Evaluation>;
  if (!evaluate.ok)
    throw new Error(`${evaluate.why}; the report needs it. Run the pipeline up to evaluate (\`npm run pipeline\`).`);
  return { ...loaded, evaluate: evaluate.value } as ReportInputs;
}
