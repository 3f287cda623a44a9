/**
 * `npm run bench:quality -- --dataset <name>`: the project's default candidates against
 * scikit-learn on a small public table nobody tuned for. The dataset's example params
 * (docs/examples/<name>/params.yaml) drive the real stages from validate on, in a temporary
 * directory: the source is read and typed by the schema (validate), split and fitted (prepare),
 * trained (train: every candidate; the examples' train.blend serves their mean) and scored on test (evaluate). The
 * references (quality-dataset.py: HistGradientBoosting with defaults, logistic / ridge regression)
 * fit on the prepared train + validation rows and score the prepared test rows: the same rows, the
 * same raw features (numbers, categories, the datetime parts the fitted spec kept) and the same
 * encoded target.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadParams, type Params } from '../../../core/schemas/params.ts';
import type { Logger } from '../../../core/platform/log.ts';
import { UsageError } from '../../../core/platform/cli.ts';
import { readParquetTable } from '../../../core/data/parquet.ts';
import { concatTables, type Table } from '../../../core/data/table.ts';
import { datetimePart, encodeTarget, type FeatureSpec } from '../../../core/model/features.ts';
import { PREPARED_DIR } from '../../../training/contracts/paths.ts';
import { train, readExperiments } from '../../../training/stages/train.ts';
import { evaluate } from '../../../training/stages/evaluate.ts';
import { npyBytes, runPythonLines } from './quality-data.ts';
import { eachCandidate } from './quality-candidates.ts';
import { prepareInto } from './quality-prepare.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');

/** Dataset name → its example params (docs/examples). */
export const DATASETS: Record<string, string> = {
  'seattle-weather': 'docs/examples/seattle-weather/params.yaml',
  penguins: 'docs/examples/penguins/params.yaml',
  'cars-mpg': 'docs/examples/cars-mpg/params.yaml',
  'cars-origin': 'docs/examples/cars-origin/params.yaml',
};

/** Within this share of the better reference counts as level (the acceptance bound). */
export const TOLERANCE = 0.02;

type Kind = 'multiclass' | 'binary' | 'regression';
const HEADLINE: Record<Kind, { metric: string; higherIsBetter: boolean }> = {
  multiclass: { metric: 'macro_f1', higherIsBetter: true },
  binary: { metric: 'roc_auc', higherIsBetter: true },
  regression: { metric: 'rmse', higherIsBetter: false },
};

export interface DatasetResult {
  dataset: string;
  seed?: number;
  kind: Kind;
  metric: string;
  rows: { train: number; validation: number; test: number };
  selected: string | null;
  ours: number;
  references: Record<string, number>;
  /** ours relative to the better reference: (ours − best) / best, sign flipped for errors (≥ 0: ahead). */
  relative: number;
  within: boolean;
  lines: Record<string, unknown>[];
}

export interface RunOptions {
  python: string | null;
  log: Logger;
  keep?: string;
  /** Rows the references fit: train + validation (default) or train only (ours fits train). */
  referenceFit?: 'train+validation' | 'train';
  /**
   * Another seed for the run: `split.seed` of a hash split (other rows in train, validation and
   * test), `train.seed` of a time split (whose rows do not move). Default: the example's own.
   */
  seed?: number;
  /** Also each candidate alone and equal-weight blends of them (./quality-candidates.ts). */
  eachCandidate?: boolean;
}

/** The example's params with `seed` in the place that changes what is measured (RunOptions.seed). */
export function withSeed(params: Params, seed: number | undefined): Params {
  if (seed === undefined) return params;
  if (params.split.method === 'time') return { ...params, train: params.train && { ...params.train, seed } };
  return { ...params, split: { ...params.split, seed } };
}

export async function runDataset(name: string, o: RunOptions): Promise<DatasetResult> {
  const paramsFile = DATASETS[name];
  if (!paramsFile) throw new Error(`no dataset ${name}; known: ${Object.keys(DATASETS).join(', ')}`);
  const params = withSeed(await loadParams(join(repoRoot, paramsFile)), o.seed);
  const tmp = o.keep ?? (await mkdtemp(join(tmpdir(), `bench-quality-${name}-`)));
  try {
    const { spec, rowsIn, rejected } = await prepareInto(tmp, params, repoRoot, o.log);
    const trained = await train({ repoRoot: tmp, params, log: o.log });
    const evaluation = await evaluate({ repoRoot: tmp, params, log: o.log });
    const runs = await readExperiments(tmp);
    const kind: Kind = spec.target.classes ? 'multiclass' : params.task.type === 'regression' ? 'regression' : 'binary';
    const { metric, higherIsBetter } = HEADLINE[kind];
    const parts = await Promise.all(
      ['train', 'validation', 'test'].map((s) => readParquetTable(join(tmp, PREPARED_DIR, `${s}.parquet`))),
    );
    const rows = { train: parts[0].length, validation: parts[1].length, test: parts[2].length };
    const test = evaluation.test as Record<string, number>;
    const lines: Record<string, unknown>[] = [
      {
        benchmark: 'quality',
        dataset: name,
        params: paramsFile,
        ...(o.seed === undefined ? {} : { seed: o.seed }),
        kind,
        rows_in: rowsIn,
        rows_rejected: rejected,
        ...rows,
        spec_left_out: spec.dropped?.map((d) => d.feature) ?? [],
      },
      ...runs.map((r) => ({
        model: r.candidate,
        selected: r.selected,
        epochs: r.epochs,
        validation: r.val,
        ...(r.selected ? { test } : {}),
      })),
    ];
    const references: Record<string, number> = {};
    if (o.python) {
      const refLines = await runReferences(o.python, tmp, { params, spec, parts, kind, fit: o.referenceFit });
      lines.push(...refLines);
      for (const l of refLines) references[String(l.model)] = l[metric] as number;
    }
    const ours = test[metric];
    const refValues = Object.values(references);
    const best = refValues.length ? (higherIsBetter ? Math.max(...refValues) : Math.min(...refValues)) : NaN;
    const versusBest = (v: number) => (higherIsBetter ? (v - best) / best : (best - v) / best);
    const relative = versusBest(ours);
    if (o.eachCandidate)
      for (const line of await eachCandidate(params, repoRoot, { log: o.log, metric })) {
        const v = line[`test_${metric}`] as number;
        lines.push({ each_candidate: name, ...line, vs_better_reference: +versusBest(v).toFixed(4) });
      }
    return {
      dataset: name,
      ...(o.seed === undefined ? {} : { seed: o.seed }),
      kind,
      metric,
      rows,
      // A blend (train.blend) selects every candidate: the summary names it.
      selected: trained.selected,
      ours,
      references,
      relative: +relative.toFixed(4),
      within: relative >= -TOLERANCE,
      lines,
    };
  } finally {
    if (!o.keep) await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The references' matrix: one column per raw feature of the fitted spec (numbers as they are,
 * NaN missing; a category as its index in the training split's values, −1 missing; each kept
 * datetime part), the encoded target and the split (0 train, 1 validation, 2 test).
 */
export function referenceColumns(params: Params, spec: FeatureSpec, parts: Table[]) {
  const all = concatTables(parts);
  const split = new Float32Array(all.length);
  let at = 0;
  parts.forEach((p, i) => {
    split.fill(i, at, at + p.length);
    at += p.length;
  });
  const numeric: string[] = [];
  const categorical: string[] = [];
  const numCols: Float32Array[] = [];
  const catCols: Float32Array[] = [];
  const kept = new Set(spec.features.map((f) => f.name));
  for (const [name, fp] of Object.entries(params.features)) {
    if (!kept.has(name) || fp.kind === 'cross') continue;
    const c = all.columns[name];
    if (fp.kind === 'datetime') {
      const def = spec.features.find((f) => f.name === name);
      if (c.type === 'string' || def?.kind !== 'datetime') continue;
      for (const part of def.parts) {
        numeric.push(`${name}.${part}`);
        numCols.push(Float32Array.from(c.values, (v) => (Number.isFinite(v) ? datetimePart(v, part) : NaN)));
      }
    } else if (c.type === 'string') {
      categorical.push(name);
      // Codes ranked by first appearance in train, so a value seen only in test gets its own code.
      const order = new Map<number, number>();
      for (let i = 0; i < all.length; i++)
        if (c.codes[i] >= 0 && !order.has(c.codes[i])) order.set(c.codes[i], order.size);
      catCols.push(Float32Array.from(c.codes, (k) => (k < 0 ? -1 : order.get(k)!)));
    } else {
      numeric.push(name);
      numCols.push(Float32Array.from(c.values));
    }
  }
  const target = encodeTarget(spec.target, all.columns[spec.target.column]);
  const names = [...numeric, ...categorical, 'target', 'split'];
  const all2 = [...numCols, ...catCols, target, split];
  const m = new Float32Array(all.length * names.length);
  for (let i = 0; i < all.length; i++) for (let j = 0; j < names.length; j++) m[i * names.length + j] = all2[j][i];
  return { matrix: m, rows: all.length, columns: names, numeric, categorical };
}

async function runReferences(
  python: string,
  dir: string,
  r: { params: Params; spec: FeatureSpec; parts: Table[]; kind: Kind; fit?: RunOptions['referenceFit'] },
): Promise<Record<string, unknown>[]> {
  const { params, spec, parts, kind } = r;
  const ref = referenceColumns(params, spec, parts);
  const npy = join(dir, 'reference.npy');
  const desc = join(dir, 'reference.json');
  await writeFile(npy, npyBytes(ref.matrix, ref.rows, ref.columns.length));
  await writeFile(
    desc,
    JSON.stringify({
      kind,
      columns: ref.columns,
      numeric: ref.numeric,
      categorical: ref.categorical,
      classes: spec.target.classes ?? null,
      reference_fit: r.fit ?? 'train+validation',
    }),
  );
  return runPythonLines(python, join(here, 'quality-dataset.py'), [npy, desc]);
}

/** The datasets `--dataset` names (comma-separated, or all). */
export function datasetNames(value: string): string[] {
  const names = value === 'all' ? Object.keys(DATASETS) : value.split(',').map((n) => n.trim());
  for (const n of names)
    if (!DATASETS[n]) throw new UsageError(`--dataset ${n} is unknown; use ${Object.keys(DATASETS).join(', ')} or all`);
  return names;
}

/**
 * Each dataset in turn (at each of `seeds`, when given): its JSON lines and a summary line, then
 * the table of all and, over several seeds, one line per dataset with the mean and the count within.
 */
export async function runDatasets(names: string[], o: RunOptions & { seeds?: number[] }) {
  const results: DatasetResult[] = [];
  const seeds = o.seeds ?? [undefined];
  for (const name of names)
    for (const seed of seeds) {
      const keep = o.keep && join(o.keep, seed === undefined ? name : `${name}-${seed}`);
      const r = await runDataset(name, { ...o, keep, seed });
      for (const line of r.lines) process.stdout.write(JSON.stringify(line) + '\n');
      const { lines: _lines, ...summary } = r;
      process.stdout.write(JSON.stringify({ summary }) + '\n');
      results.push(r);
    }
  process.stdout.write(datasetTable(results));
  if (seeds.length > 1) process.stdout.write(seedTable(results));
  return results;
}

/** Per dataset over its seeds: the mean of ours vs the better reference and how many seeds are within 2 %. */
export function seedTable(results: DatasetResult[]): string {
  const lines = ['| dataset | seeds | mean vs better reference | within 2 % |', '|---|---|---|---|'];
  for (const dataset of [...new Set(results.map((r) => r.dataset))]) {
    const rs = results.filter((r) => r.dataset === dataset);
    const mean = rs.reduce((s, r) => s + r.relative, 0) / rs.length;
    const within = rs.filter((r) => r.within).length;
    lines.push(
      `| ${dataset} | ${rs.map((r) => r.seed ?? '-').join(', ')} | ${(mean * 100).toFixed(1)} % | ${within} of ${rs.length} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** A Markdown table of results, one row per dataset. */
export function datasetTable(results: DatasetResult[]): string {
  const f = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(4));
  const lines = [
    '| dataset | metric | ours (selected) | HistGradientBoosting | logistic / ridge | vs better reference | within 2 % |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const hgb = Object.entries(r.references).find(([k]) => k.includes('HistGradientBoosting'))?.[1];
    const lin = Object.entries(r.references).find(([k]) => !k.includes('HistGradientBoosting'))?.[1];
    lines.push(
      `| ${r.dataset}${r.seed === undefined ? '' : ` (seed ${r.seed})`} | ${r.metric} | ${f(r.ours)} (${r.selected ?? '?'}) | ${f(hgb)} | ${f(lin)} | ${(r.relative * 100).toFixed(1)} % | ${r.within ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n') + '\n';
}
