/**
 * `npm run bench:quality -- --dataset NAME --parity` (or `--parity --prepared DIR` on a
 * pipeline's prepared rows): our gradient-boosting engine (training/gbdt/) and scikit-learn's
 * HistGradientBoosting given the *same* settings — HistGradientBoosting's defaults below 10,000
 * rows: learning rate 0.1, 100 iterations, no early stopping, 31 leaves, no depth limit,
 * min_samples_leaf 20, no L2, 255 bins — on the same prepared train + validation rows and the
 * same raw features (numbers, categories native, the datetime parts the spec kept; crosses left
 * out, since the reference has none), scored on the same test rows. It compares the engines, not
 * the project's defaults: nothing here is capped by the row count, cross-validated or blended.
 *
 * quality-parity.py fits the reference and computes every metric, ours included (from the
 * outputs written here), so both sides are measured by the same code: on the fitting rows (how
 * well each engine fits what it saw) and on test.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadParams, type Params } from '../../../core/schemas/params.ts';
import type { Logger } from '../../../core/platform/log.ts';
import { readParquetTable } from '../../../core/data/parquet.ts';
import { FEATURE_SPEC_FILE, PREPARED_DIR } from '../../../training/contracts/paths.ts';
import { concatTables, type Table } from '../../../core/data/table.ts';
import { encodeFeatures, encodeTarget, type FeatureSpec } from '../../../core/model/features.ts';
import { treeModel, treeOutputs, type TreeModel } from '../../../core/model/trees.ts';
import { readArtifactFileAt } from '../../../core/model/artifact-files.ts';
import { boost, type BoostParams, type Objective } from '../../../training/gbdt/boost.ts';
import { fitInputs } from '../../../training/gbdt/inputs.ts';
import { npyBytes, runPythonLines } from './quality-data.ts';
import { DATASETS, referenceColumns, withSeed } from './quality-dataset.ts';
import { prepareInto } from './quality-prepare.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..');

/** HistGradientBoosting's defaults (scikit-learn 1.2) for a table below 10,000 rows, in its own names. */
export const HGB_SETTINGS = {
  learning_rate: 0.1,
  max_iter: 100,
  max_leaf_nodes: 31,
  max_depth: null as number | null,
  min_samples_leaf: 20,
  l2_regularization: 0,
  max_bins: 255,
};
export type ParitySettings = typeof HGB_SETTINGS;

/**
 * Our boosting parameters for those settings, as they are: no cap on min_samples_leaf by the row
 * count, no early stopping (every iteration kept), and the categorical rules HistGradientBoosting
 * also has: a category needs 10 rows to be ranked, ratios smoothed by 10, and no cap on how many
 * categories one side may take (HistGradientBoosting scans the ranked categories from both ends
 * up to the middle).
 */
export function parityBoostParams(s: ParitySettings): BoostParams {
  return {
    maxIter: s.max_iter,
    patience: s.max_iter,
    maxLeaves: s.max_leaf_nodes,
    maxDepth: s.max_depth ?? 0,
    learningRate: s.learning_rate,
    l2: s.l2_regularization,
    minSamplesLeaf: s.min_samples_leaf,
    minHessian: 1e-3,
    maxCatThreshold: 255,
    minCategoryCount: 10,
    catSmooth: 10,
    threads: 1,
  };
}

/** The spec without crosses: the reference reads the raw features only, so ours does too. */
export function rawFeatureSpec(spec: FeatureSpec): FeatureSpec {
  return { ...spec, features: spec.features.filter((f) => f.kind !== 'cross') };
}

export function objectiveOf(task: Params['task']['type'], classes: number): Objective {
  return task === 'regression' ? 'regression' : classes > 1 ? 'multiclass' : 'binary';
}

/** Our engine fitted on `fit` (train + validation) with `s`; no validation rows, so no early stopping. */
export function fitParity(
  spec: FeatureSpec,
  fit: Table,
  task: Params['task']['type'],
  s: ParitySettings,
  seed: number,
): { model: TreeModel; iterations: number; seconds: number } {
  const started = performance.now();
  const raw = rawFeatureSpec(spec);
  const k = spec.target.classes?.length ?? 1;
  const objective = objectiveOf(task, k);
  const enc = encodeFeatures(raw, fit);
  const y = encodeTarget(spec.target, fit.columns[spec.target.column]);
  const fitted = fitInputs(raw, enc, fit, y, {
    maxBins: s.max_bins,
    nativeMaxCategories: 255,
    highCardinality: 'drop',
    targetSmoothing: 20,
    targetFolds: 5,
    seed,
    classes: k,
  });
  const result = boost(
    objective,
    k,
    fitted.inputs,
    fitted.binCounts,
    { bins: fitted.bins, y },
    { bins: new Uint8Array(0), y: new Float32Array(0) },
    parityBoostParams(s),
  );
  return {
    model: treeModel(result.model),
    iterations: result.iterations,
    seconds: (performance.now() - started) / 1000,
  };
}

export interface ParityOptions {
  params: Params;
  spec: FeatureSpec;
  /** The prepared train, validation and test rows. */
  parts: [Table, Table, Table];
  python: string;
  /** Where the matrices for Python are written. */
  dir: string;
  settings?: ParitySettings;
  seed: number;
  label: Record<string, unknown>;
}

/**
 * Fits ours, writes its outputs for every row (fit rows first, then test) beside the reference
 * matrix, and resolves with quality-parity.py's lines: one for HistGradientBoosting with `settings`,
 * one for ours, one comparing the two on test.
 */
export async function runParity(o: ParityOptions): Promise<Record<string, unknown>[]> {
  const s = o.settings ?? HGB_SETTINGS;
  const parts = o.parts.map(float32Numbers) as [Table, Table, Table];
  const [train, validation, test] = parts;
  const fit = concatTables([train, validation]);
  const ours = fitParity(o.spec, fit, o.params.task.type, s, o.seed);
  const raw = rawFeatureSpec(o.spec);
  const all = concatTables([train, validation, test]);
  const outputs = treeOutputs(ours.model, raw, all, null);
  const k = o.spec.target.classes?.length ?? 1;
  const ref = parityColumns(o.params, o.spec, parts, raw);
  const kind = o.spec.target.classes ? 'multiclass' : o.params.task.type === 'regression' ? 'regression' : 'binary';
  const width = kind === 'multiclass' ? k : 1;
  await writeFile(join(o.dir, 'parity.npy'), npyBytes(ref.matrix, ref.rows, ref.columns.length));
  await writeFile(join(o.dir, 'parity-ours.npy'), npyBytes(outputs, all.length, width));
  await writeFile(
    join(o.dir, 'parity.json'),
    JSON.stringify({
      kind,
      columns: ref.columns,
      numeric: ref.numeric,
      categorical: ref.categorical,
      classes: o.spec.target.classes ?? null,
      settings: s,
      ours: { iterations: ours.iterations, fit_s: +ours.seconds.toFixed(2), trees: ours.model.json.trees.length },
      label: o.label,
    }),
  );
  return runPythonLines(o.python, join(here, 'quality-parity.py'), [
    join(o.dir, 'parity.npy'),
    join(o.dir, 'parity.json'),
    join(o.dir, 'parity-ours.npy'),
  ]);
}

async function preparedParts(dir: string): Promise<[Table, Table, Table]> {
  const [train, validation, test] = await Promise.all(
    ['train', 'validation', 'test'].map((s) => readParquetTable(join(dir, PREPARED_DIR, `${s}.parquet`))),
  );
  return [train, validation, test];
}

/** A `--dataset` table at `seed`: its example params through validate and prepare, then runParity. */
export async function parityDataset(
  name: string,
  o: { python: string; log: Logger; seed?: number; keep?: string; settings?: ParitySettings },
): Promise<Record<string, unknown>[]> {
  const paramsFile = DATASETS[name];
  const params = withSeed(await loadParams(join(repoRoot, paramsFile)), o.seed);
  const tmp = o.keep ?? (await mkdtemp(join(tmpdir(), `bench-parity-${name}-`)));
  try {
    await mkdir(tmp, { recursive: true });
    const { spec } = await prepareInto(tmp, params, repoRoot, o.log);
    return await runParity({
      params,
      spec,
      parts: await preparedParts(tmp),
      python: o.python,
      dir: tmp,
      settings: o.settings,
      seed: params.train?.seed ?? 42,
      label: { table: name, ...(o.seed === undefined ? {} : { seed: o.seed }) },
    });
  } finally {
    if (!o.keep) await rm(tmp, { recursive: true, force: true });
  }
}

/** A pipeline's prepared rows (`DIR/artifacts/prepared`, e.g. the flights quick default's) with its params file. */
export async function parityPrepared(
  dir: string,
  paramsFile: string,
  o: { python: string; settings?: ParitySettings; keep?: string },
): Promise<Record<string, unknown>[]> {
  const params = await loadParams(paramsFile);
  const spec: FeatureSpec = await readArtifactFileAt(
    join(dir, PREPARED_DIR, FEATURE_SPEC_FILE),
    'featureSpec',
    'prepare',
  );
  const work = o.keep ?? (await mkdtemp(join(tmpdir(), 'bench-parity-prepared-')));
  await mkdir(work, { recursive: true });
  try {
    return await runParity({
      params,
      spec,
      parts: await preparedParts(dir),
      python: o.python,
      dir: work,
      settings: o.settings,
      seed: params.train?.seed ?? 42,
      label: { table: `prepared ${dir}` },
    });
  } finally {
    if (!o.keep) await rm(work, { recursive: true, force: true });
  }
}

/**
 * The table with every number column rounded to float32, the precision of the matrix the
 * reference reads: a value exactly on a bin edge (a midpoint of two training values) must fall on
 * the same side for both engines, and float32 rounding can move it across. Timestamps stay as they
 * are (their datetime parts are small integers in the matrix; a rounded timestamp would move by
 * minutes and change them).
 */
export function float32Numbers(t: Table): Table {
  const columns: Table['columns'] = {};
  for (const [name, c] of Object.entries(t.columns))
    columns[name] = c.type === 'number' ? { ...c, values: Float64Array.from(c.values, Math.fround) } : c;
  return { ...t, columns };
}

/**
 * The reference's matrix (./quality-dataset.ts referenceColumns), except that each category is the
 * index our encoding gives it (the spec's vocabulary; 0, out of vocabulary or missing, a category
 * of its own, as our trees see it): a value rarer than the feature's `min_frequency` is one pooled
 * category for both engines, not a category of its own for the reference only.
 */
export function parityColumns(params: Params, spec: FeatureSpec, parts: Table[], raw: FeatureSpec) {
  const ref = referenceColumns(params, spec, parts);
  const enc = encodeFeatures(raw, concatTables(parts));
  const width = ref.columns.length;
  for (const name of ref.categorical) {
    const c = enc.categorical.find((e) => e.name === name);
    if (!c) throw new Error(`parity: no encoded input for the categorical feature ${name}`);
    if (c.cardinality > 255)
      throw new Error(`parity: ${name} has ${c.cardinality} categories; HistGradientBoosting takes at most 255`);
    const j = ref.columns.indexOf(name);
    for (let i = 0; i < ref.rows; i++) ref.matrix[i * width + j] = c.indices[i];
  }
  return ref;
}

/** Per table: the mean over seeds of (ours − HGB) / HGB on test (sign flipped for errors: ≥ 0 ours ahead), and seeds ahead. */
export function parityTable(lines: Record<string, unknown>[]): string {
  const rows = lines.filter((l) => l.parity_compare !== undefined) as {
    parity_compare: string;
    metric: string;
    relative: number;
    seed?: number;
  }[];
  const out = [
    '| table | metric | seeds | ours vs HGB, same settings (mean) | seeds ours ahead or level |',
    '|---|---|---|---|---|',
  ];
  for (const name of [...new Set(rows.map((r) => r.parity_compare))]) {
    const rs = rows.filter((r) => r.parity_compare === name);
    const mean = rs.reduce((a, r) => a + r.relative, 0) / rs.length;
    out.push(
      `| ${name} | ${rs[0].metric} | ${rs.map((r) => r.seed ?? '-').join(', ')} | ${(mean * 100).toFixed(2)} % | ${rs.filter((r) => r.relative >= 0).length} of ${rs.length} |`,
    );
  }
  return out.join('\n') + '\n';
}
