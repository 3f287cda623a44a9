/**
 * What a tree ensemble (core/model/trees.ts) reads: one small integer bin per input per row,
 * computed from the same encoding every model uses (core/model/features.ts `encodeFeatures`), so
 * training and serving bin a record identically. A network wants standardized numbers and
 * embeddings; a tree wants ordered values and category ids:
 *
 * - `ordered` inputs are numeric columns (raw units, not standardized: the bin edges are in the
 *   units a person reads), datetime parts (`date.minute_of_day`, `date.hour`: their integer
 *   value), and target statistics of high-cardinality crosses (a number per category, fitted on
 *   train). Bin 0 holds missing values; the tree learns which side they go to.
 * - `categorical` inputs are categorical features and small crosses: the vocabulary index, mapped
 *   to at most 256 bins (index 0, out of vocabulary or missing, is bin 0, a category of its own).
 *
 * Bins fit in a byte (at most 256 per input), so a 3M-row table of 12 inputs is 36 MB.
 */
import type { EncodedFeatures, FeatureSpec } from './features.ts';
import type { Table } from '../data/table.ts';

export const MAX_BINS = 256;

export interface TreeInput {
  /** A numeric feature, a datetime part (`date.hour`), a categorical feature or a cross of the spec. */
  name: string;
  kind: 'ordered' | 'categorical';
  /** numeric: the raw column; index: the encoded category index (parts, categoricals, crosses); target_stat: `stats[index]`. */
  from: 'numeric' | 'index' | 'target_stat';
  /** Ordered: increasing bin edges; a value v goes to bin 1 + (number of edges < v), missing to bin 0. */
  edges?: number[];
  /** Categorical, when it has more categories than bins: vocabulary index → bin (absent: the index is the bin). */
  category_bins?: number[];
  /** target_stat: the smoothed training target statistic of each category index (index 0: out of vocabulary). */
  stats?: number[];
}

/** Bin of `v` among increasing `edges` (1-based; 0 is missing). */
export function orderedBin(edges: ArrayLike<number>, v: number): number {
  if (!Number.isFinite(v)) return 0;
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo + 1;
}

/** How many bins an input has (bin 0 included). */
export function binCount(input: TreeInput, cardinality?: number): number {
  if (input.kind === 'ordered') return (input.edges?.length ?? 0) + 2;
  if (input.category_bins) return Math.max(0, ...input.category_bins) + 1;
  if (cardinality === undefined) throw new Error(`tree input ${input.name}: categorical without its cardinality`);
  return cardinality;
}

/** One input's values before binning: a number per row (category index for `index` inputs, NaN = missing). */
export function inputValues(input: TreeInput, enc: EncodedFeatures, table: Table, spec: FeatureSpec): Float64Array {
  const n = enc.rows;
  if (input.from === 'numeric') {
    const c = table.columns[input.name];
    if (!c || c.type === 'string')
      throw new Error(`tree input "${input.name}" needs a numeric column "${input.name}" in the data`);
    return Float64Array.from(c.values.subarray(0, n));
  }
  const cat = enc.categorical.find((c) => c.name === input.name);
  if (!cat)
    throw new Error(
      `tree input "${input.name}" is not among the encoded inputs (${enc.categorical.map((c) => c.name).join(', ')}); the model and its feature spec disagree: retrain`,
    );
  const out = Float64Array.from(cat.indices);
  if (input.from === 'target_stat') {
    const stats = input.stats ?? [];
    for (let r = 0; r < n; r++) out[r] = stats[out[r]] ?? stats[0];
  }
  // A datetime part of a missing timestamp is encoded as 0; for a tree it is missing.
  const part = input.name.indexOf('.');
  if (part > 0 && spec.features.some((f) => f.kind === 'datetime' && f.name === input.name.slice(0, part))) {
    const t = table.columns[input.name.slice(0, part)];
    if (t && t.type !== 'string') for (let r = 0; r < n; r++) if (!Number.isFinite(t.values[r])) out[r] = NaN;
  }
  return out;
}

/** Each ordered input's edges as a typed array, made once: serving bins a request or a few rows at a time. */
const edgeArrays = new WeakMap<number[], Float64Array>();

/** Bin one input's values (from `inputValues`) into `out` at column `f` of a rows × width row-major matrix. */
export function binInto(input: TreeInput, values: Float64Array, out: Uint8Array, f: number, width: number): void {
  const n = values.length;
  if (input.kind === 'ordered') {
    const list = input.edges ?? [];
    let edges = edgeArrays.get(list);
    if (!edges || edges.length !== list.length) edgeArrays.set(list, (edges = Float64Array.from(list)));
    for (let r = 0; r < n; r++) out[r * width + f] = orderedBin(edges, values[r]);
    return;
  }
  for (let r = 0; r < n; r++) out[r * width + f] = categoricalBin(input, values[r]);
}

/** What binRows needs of one input, resolved once per (inputs, spec): serving bins a few rows at a time. */
interface InputPlan {
  input: TreeInput;
  /** Ordered inputs: the edges as a typed array. */
  edges: Float64Array | null;
  /** A datetime part (`date.hour`): the timestamp column whose missing values make the part missing. */
  timestamp: string | null;
}

const plans = new WeakMap<TreeInput[], { spec: FeatureSpec; plan: InputPlan[] }>();

function planOf(inputs: TreeInput[], spec: FeatureSpec): InputPlan[] {
  const cached = plans.get(inputs);
  if (cached?.spec === spec) return cached.plan;
  const plan = inputs.map((input) => {
    const part = input.name.indexOf('.');
    const owner = part > 0 ? input.name.slice(0, part) : null;
    return {
      input,
      edges: input.kind === 'ordered' ? Float64Array.from(input.edges ?? []) : null,
      timestamp:
        input.from !== 'numeric' &&
        owner !== null &&
        spec.features.some((f) => f.kind === 'datetime' && f.name === owner)
          ? owner
          : null,
    };
  });
  plans.set(inputs, { spec, plan });
  return plan;
}

/**
 * Every input's bin for every row: rows × inputs.length, row-major. The bins of
 * `binInto(input, inputValues(input, …))` for each input (tree-inputs.test.ts compares them), read
 * straight from the columns and indices without a values array per input.
 */
export function binRows(inputs: TreeInput[], enc: EncodedFeatures, table: Table, spec: FeatureSpec): Uint8Array {
  const width = inputs.length;
  const n = enc.rows;
  const out = new Uint8Array(n * width);
  const plan = planOf(inputs, spec);
  for (let f = 0; f < width; f++) {
    const { input, edges, timestamp } = plan[f];
    if (input.from === 'numeric') {
      const c = table.columns[input.name];
      if (!c || c.type === 'string')
        throw new Error(`tree input "${input.name}" needs a numeric column "${input.name}" in the data`);
      const values = c.values;
      if (edges) for (let r = 0; r < n; r++) out[r * width + f] = orderedBin(edges, values[r]);
      else for (let r = 0; r < n; r++) out[r * width + f] = categoricalBin(input, values[r]);
      continue;
    }
    let cat: EncodedFeatures['categorical'][number] | undefined;
    for (const c of enc.categorical)
      if (c.name === input.name) {
        cat = c;
        break;
      }
    if (!cat) {
      inputValues(input, enc, table, spec); // throws the error that names the encoded inputs
      continue;
    }
    const indices = cat.indices;
    const stats = input.from === 'target_stat' ? (input.stats ?? []) : null;
    const t = timestamp === null ? undefined : table.columns[timestamp];
    const times = t && t.type !== 'string' ? t.values : null;
    for (let r = 0; r < n; r++) {
      let v: number = indices[r];
      if (stats) v = stats[v] ?? stats[0];
      if (times !== null && !Number.isFinite(times[r])) v = NaN;
      out[r * width + f] = edges ? orderedBin(edges, v) : categoricalBin(input, v);
    }
  }
  return out;
}

/** A categorical input's bin of a vocabulary index: the one rule binInto and binRows bin by. */
function categoricalBin(input: TreeInput, i: number): number {
  const map = input.category_bins;
  return map ? (map[i] ?? 0) : i < MAX_BINS ? i : 0;
}
