/**
 * What the report reads: the JSON other stages wrote. Only `metrics/evaluate.json` is required;
 * every other file may be missing or unreadable, and the report then says so in its section.
 * Every file is checked by its one schema in core/metrics-files.ts (the raw manifest by its own).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { confusionOf, METRICS_FILES, metricOf, type Confusion, type EvaluateFile, type ExperimentRun, type MetricsFile, type RegisterFile } from '../../core/metrics-files.ts';
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

/** Which stage writes each input (so a missing file points at the command that makes it): the shared schemas of core/metrics-files.ts. */
export const INPUTS = { ...METRICS_FILES, manifest: { path: RAW_MANIFEST, stage: 'ingest', schema: manifestSchema } } as const;

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

