/**
 * The quick way through `trees.json`'s schema. Checking the quick default's 4 MB ensemble with
 * zod took 0.15–0.3 s per load (evaluate, register and the API each load it); these loops take a
 * few milliseconds. They accept only what the schema (core/model/trees.ts `treeEnsembleSchema`)
 * accepts and give what it gives (the same keys, nulls read as NaN); for anything else they say
 * null and the schema runs, so a bad file is still refused with the schema's own words.
 */
import type { TreeEnsembleJson, TreeJson } from './trees.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The array itself when every element is a safe integer (what `z.number().int()` accepts). */
function ints(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) return null;
  return v as number[];
}

/** Numbers as they are and nulls as NaN (the schema's `reals`); a new array only when there is a null. */
function reals(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  let out = v as number[];
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x === 'number') continue;
    if (x !== null) return null;
    if (out === v) out = v.slice() as number[];
    out[i] = NaN;
  }
  return out;
}

/** Present keys of an object, each one the schema knows; an explicit undefined is left to the schema. */
function onlyPresent(o: Json, keys: readonly string[]): boolean {
  for (const k of keys) if (k in o && o[k] === undefined) return false;
  return true;
}

function tree(v: unknown): TreeJson | null {
  if (!isObject(v)) return null;
  const feature = ints(v.feature);
  const threshold = ints(v.threshold);
  const default_left = ints(v.default_left);
  const left = ints(v.left);
  const right = ints(v.right);
  const value = reals(v.value);
  if (!feature || !threshold || !default_left || !left || !right || !value || !Array.isArray(v.cat_sets)) return null;
  const cat_sets: number[][] = [];
  for (const set of v.cat_sets as unknown[]) {
    const s = ints(set);
    if (!s) return null;
    cat_sets.push(s);
  }
  return { feature, threshold, default_left, left, right, value, cat_sets };
}

const KINDS = new Set(['ordered', 'categorical']);
const FROMS = new Set(['numeric', 'index', 'target_stat']);
const OBJECTIVES = new Set(['binary', 'multiclass', 'regression']);

function input(v: unknown): TreeEnsembleJson['inputs'][number] | null {
  if (!isObject(v) || !onlyPresent(v, ['edges', 'category_bins', 'stats'])) return null;
  if (typeof v.name !== 'string' || !KINDS.has(v.kind as string) || !FROMS.has(v.from as string)) return null;
  const out: TreeEnsembleJson['inputs'][number] = {
    name: v.name,
    kind: v.kind as 'ordered' | 'categorical',
    from: v.from as 'numeric' | 'index' | 'target_stat',
  };
  if ('edges' in v) {
    const edges = reals(v.edges);
    if (!edges) return null;
    out.edges = edges;
  }
  if ('category_bins' in v) {
    const bins = ints(v.category_bins);
    if (!bins) return null;
    out.category_bins = bins;
  }
  if ('stats' in v) {
    const stats = reals(v.stats);
    if (!stats) return null;
    out.stats = stats;
  }
  return out;
}

/** What `treeEnsembleSchema.parse(json)` gives, or null when the schema must be asked (a malformed file). */
export function quickTreeEnsemble(json: unknown): TreeEnsembleJson | null {
  if (!isObject(json) || json.format !== 1 || !OBJECTIVES.has(json.objective as string)) return null;
  if (!Number.isSafeInteger(json.classes) || (json.classes as number) < 1) return null;
  const base_score = reals(json.base_score);
  if (!base_score || !Array.isArray(json.inputs) || !Array.isArray(json.trees)) return null;
  const inputs: TreeEnsembleJson['inputs'] = [];
  for (const v of json.inputs as unknown[]) {
    const i = input(v);
    if (!i) return null;
    inputs.push(i);
  }
  const trees: TreeJson[] = [];
  for (const v of json.trees as unknown[]) {
    const t = tree(v);
    if (!t) return null;
    trees.push(t);
  }
  return {
    format: 1,
    objective: json.objective as TreeEnsembleJson['objective'],
    classes: json.classes as number,
    base_score,
    inputs,
    trees,
  };
}
