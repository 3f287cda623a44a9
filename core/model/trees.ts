/**
 * Gradient-boosted tree ensembles (`model: gbdt`, trained by training/gbdt/) in a bundle: the
 * `trees.json` format, and their evaluation in plain JavaScript on binned inputs
 * (core/model/tree-inputs.ts). Two layouts walk the same trees — `treeValue` (training's
 * validation scores) and packed records (./tree-pack.ts: serving, evaluation, batch scoring) —
 * and give bit-identical scores (its test compares them), so what selection saw is what serving
 * computes.
 *
 * Each tree is flat arrays indexed by node: `feature` (−1 for a leaf), `threshold` (ordered input:
 * the last bin that goes left; categorical input: an index into `cat_sets`, the bins that go left),
 * `default_left` (ordered input: where missing values, bin 0, go), `left`, `right`, `value` (the
 * leaf's contribution to its class's score). Tree t adds to class t mod `classes`.
 */
import { z } from 'zod';
import type { Table } from '../data/table.ts';
import { encodeFeatures, type EncodedFeatures, type FeatureSpec } from './features.ts';
import { binRows, type TreeInput } from './tree-inputs.ts';
import { applyCalibration, type Calibration } from './calibration.ts';
import type { CompiledTree } from './tree-value.ts';
import { addTreeScores, packEnsemble, type PackedEnsemble } from './tree-pack.ts';
import { compileEnsemble, compileEnsembleAsync, type WasmEnsemble } from './tree-wasm.ts';
import { quickTreeEnsemble } from './tree-json-check.ts';

export const TREES_FILE = 'trees.json';

const ints = z.array(z.number().int());
// JSON stores NaN as null (and 1e400 reads as Infinity): read both, so the finiteness check, not the schema, refuses them.
const reals = z.array(
  z.custom<number | null>((v) => v === null || typeof v === 'number', 'must be a number').transform((v) => v ?? NaN),
);
const treeSchema = z.object({
  feature: ints,
  threshold: ints,
  default_left: ints,
  left: ints,
  right: ints,
  value: reals,
  cat_sets: z.array(ints),
});
const inputSchema = z.object({
  name: z.string(),
  kind: z.enum(['ordered', 'categorical']),
  from: z.enum(['numeric', 'index', 'target_stat']),
  edges: reals.optional(),
  category_bins: ints.optional(),
  stats: reals.optional(),
});
export const treeEnsembleSchema = z.object({
  format: z.literal(1),
  objective: z.enum(['binary', 'multiclass', 'regression']),
  classes: z.number().int().min(1),
  base_score: reals,
  inputs: z.array(inputSchema),
  trees: z.array(treeSchema),
});
export type TreeJson = z.output<typeof treeSchema>;
export type TreeEnsembleJson = z.output<typeof treeEnsembleSchema>;

/** A loaded or freshly trained ensemble: what a bundle's `model` is when its model_type is gbdt. */
export interface TreeModel {
  kind: 'trees';
  json: TreeEnsembleJson;
  compiled: CompiledTree[];
  /** Nothing to free (no tensors); present so callers dispose any bundle model the same way. */
  dispose(): void;
}

export function isTreeModel(m: unknown): m is TreeModel {
  return typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'trees';
}

export function compileTree(t: TreeJson, inputs: TreeInput[]): CompiledTree {
  const n = t.feature.length;
  const masks = new Uint32Array(n * 8);
  const categorical = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const f = t.feature[i];
    if (f < 0 || inputs[f]?.kind !== 'categorical') continue;
    categorical[i] = 1;
    for (const b of t.cat_sets[t.threshold[i]] ?? []) masks[i * 8 + (b >>> 5)] |= 1 << (b & 31);
  }
  return {
    feature: Int32Array.from(t.feature),
    threshold: Int32Array.from(t.threshold),
    defaultLeft: Uint8Array.from(t.default_left),
    left: Int32Array.from(t.left),
    right: Int32Array.from(t.right),
    value: Float64Array.from(t.value),
    masks,
    categorical,
  };
}

function schemaChecked(json: unknown, where: string): TreeEnsembleJson {
  const parsed = treeEnsembleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${where}: ${issue.path.join('.') || 'top level'}: ${issue.message}; re-run training (npm run pipeline) or fetch the version again`,
    );
  }
  return parsed.data;
}

/** Check what JSON.parse gave and compile it; `where` names the file in errors. */
export function treeModelFrom(json: unknown, where: string): TreeModel {
  const m = quickTreeEnsemble(json) ?? schemaChecked(json, where);
  m.trees.forEach((t, i) => {
    const bad = [t.threshold, t.default_left, t.left, t.right, t.value].find((a) => a.length !== t.feature.length);
    if (bad) throw new Error(`${where}: tree ${i} has arrays of different lengths; the file is damaged, retrain`);
    t.feature.forEach((f, node) => {
      if (f >= m.inputs.length)
        throw new Error(`${where}: tree ${i} node ${node} splits on input ${f}, which is absent`);
      if (
        f >= 0 &&
        (t.left[node] >= t.feature.length ||
          t.right[node] >= t.feature.length ||
          t.left[node] <= node ||
          t.right[node] <= node)
      )
        throw new Error(`${where}: tree ${i} node ${node} points outside the tree; the file is damaged, retrain`);
    });
  });
  return treeModel(m);
}

export function treeModel(json: TreeEnsembleJson): TreeModel {
  return { kind: 'trees', json, compiled: json.trees.map((t) => compileTree(t, json.inputs)), dispose: () => {} };
}

/** The first non-finite number of the ensemble (a leaf value, a base score, an edge, a statistic), or null. */
export function nonFiniteTrees(m: TreeEnsembleJson): string | null {
  const bad = (a: number[] | undefined) => a?.findIndex((v) => !Number.isFinite(v)) ?? -1;
  if (bad(m.base_score) >= 0) return `base_score[${bad(m.base_score)}]`;
  for (const input of m.inputs) {
    if (bad(input.edges) >= 0) return `input ${input.name} edges[${bad(input.edges)}]`;
    if (bad(input.stats) >= 0) return `input ${input.name} stats[${bad(input.stats)}]`;
  }
  for (let t = 0; t < m.trees.length; t++)
    if (bad(m.trees[t].value) >= 0) return `tree ${t} value[${bad(m.trees[t].value)}]`;
  return null;
}

/**
 * The ensemble packed (./tree-pack.ts), made when first needed, and compiled to WebAssembly
 * (./tree-wasm.ts): 1.7–4× faster a row, bit-identical, but building and compiling the module
 * costs ~0.5 ms a tree. A server compiles it while it loads the model (`prepareTrees`, off the
 * event loop); elsewhere (training, evaluation, batch scoring) a model is compiled once it has
 * scored COMPILE_AFTER_ROWS rows, where the time saved has paid for the compile. Scores for
 * fewer than all trees (training's iteration curves) take the packed walk.
 */
const packs = new WeakMap<TreeModel, PackedEnsemble>();
const wasms = new WeakMap<TreeModel, WasmEnsemble | null>();
/** Why a model's module could not be built or compiled (V8's limits, no WebAssembly): said in the server's log. */
const wasmProblems = new WeakMap<TreeModel, string>();
const rowsScored = new WeakMap<TreeModel, number>();
/** Measured on the quick default (612 trees): ~0.35 s to build and compile, ~13 ns saved per row and tree. */
const COMPILE_AFTER_ROWS = 50_000;

/** The compiled module where it can be built, else null (the packed walk serves). */
function compiledSync(m: TreeModel): WasmEnsemble | null {
  let w = wasms.get(m);
  if (w === undefined) {
    try {
      w = compileEnsemble(m.compiled, m.json.classes, m.json.inputs.length);
    } catch (err) {
      w = null;
      wasmProblems.set(m, (err as Error).message);
    }
    wasms.set(m, w);
  }
  return w;
}

/**
 * Compile the ensemble to WebAssembly now, in the background as far as V8 allows, and run it once
 * (V8 compiles a function on its first call): what a server does before it serves the model.
 */
export async function prepareTrees(m: TreeModel): Promise<void> {
  if (wasms.has(m)) return;
  let w: WasmEnsemble | null;
  try {
    w = await compileEnsembleAsync(m.compiled, m.json.classes, m.json.inputs.length);
  } catch (err) {
    w = null;
    wasmProblems.set(m, (err as Error).message);
  }
  if (wasms.has(m)) return;
  wasms.set(m, w);
  w?.addScores(new Uint8Array(m.json.inputs.length), 1, new Float64Array(m.json.classes));
}

/** Which walk scores this model's rows now: for a server's report and the benchmarks. */
export function treeWalkOf(m: TreeModel): 'wasm' | 'packed' {
  return wasms.get(m) ? 'wasm' : 'packed';
}

/** Why the model takes the packed walk although it was to be compiled, or null. */
export function treeWalkProblem(m: TreeModel): string | null {
  return wasmProblems.get(m) ?? null;
}

/** Raw scores (log-odds, class logits or scaled regression values): rows × classes, row-major. */
export function rawScores(m: TreeModel, bins: Uint8Array, rows: number, treeCount = m.compiled.length): Float64Array {
  const k = m.json.classes;
  const width = m.json.inputs.length;
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) for (let c = 0; c < k; c++) out[r * k + c] = m.json.base_score[c];
  if (treeCount === m.compiled.length && rows > 0) {
    let w = wasms.get(m);
    if (w === undefined) {
      // Not compiled yet: count the rows until the compile pays (a served model skips this).
      const scored = (rowsScored.get(m) ?? 0) + rows;
      rowsScored.set(m, scored);
      w = scored >= COMPILE_AFTER_ROWS ? compiledSync(m) : null;
    }
    if (w) {
      w.addScores(bins, rows, out);
      return out;
    }
  }
  let packed = packs.get(m);
  if (!packed) packs.set(m, (packed = packEnsemble(m.compiled)));
  addTreeScores(packed, bins, rows, width, k, treeCount, out);
  return out;
}

/** Scores → outputs: sigmoid then calibration (binary), softmax with temperature (multi-class), as is (regression). */
export function scoresToOutputs(
  objective: TreeEnsembleJson['objective'],
  raw: Float64Array,
  k: number,
  calibration: Calibration | null,
): Float32Array {
  if (objective === 'regression') return Float32Array.from(raw);
  if (objective === 'binary')
    return Float32Array.from(raw, (s) => {
      const p = 1 / (1 + Math.exp(-s));
      return calibration ? applyCalibration(calibration, p) : p;
    });
  const temperature = calibration?.method === 'temperature' ? calibration.temperature : 1;
  const out = new Float32Array(raw.length);
  for (let at = 0; at < raw.length; at += k) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, raw[at + c] / temperature);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(raw[at + c] / temperature - max);
    for (let c = 0; c < k; c++) out[at + c] = Math.exp(raw[at + c] / temperature - max) / sum;
  }
  return out;
}

/** Outputs of an ensemble for encoded rows of `table` (the same path in training, evaluation and serving). */
export function treeOutputs(
  m: TreeModel,
  spec: FeatureSpec,
  table: Table,
  calibration: Calibration | null,
  enc: EncodedFeatures = encodeFeatures(spec, table),
): Float32Array {
  return scoresToOutputs(m.json.objective, treeScores(m, spec, table, enc), m.json.classes, calibration);
}

/** Raw scores of the encoded rows of `table`: what treeOutputs turns into outputs. */
export function treeScores(m: TreeModel, spec: FeatureSpec, table: Table, enc: EncodedFeatures): Float64Array {
  return rawScores(m, binRows(m.json.inputs, enc, table, spec), enc.rows);
}
