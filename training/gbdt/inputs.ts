/**
 * Which inputs a tree ensemble reads, fitted on the train split only (core/model/tree-inputs.ts
 * applies them): numeric features and datetime parts as ordered values cut into at most `maxBins`
 * quantile bins; categorical features and crosses with few categories as native categories;
 * crosses with more (the scheduled `flight`: up to 200,000) as a target statistic — the smoothed
 * mean of the target per category, out-of-fold for the training rows (K folds, each row's value
 * computed without its own fold, so a tree cannot learn a row's own label through it), from all
 * training rows for validation and serving (stored in the bundle).
 */
import type { EncodedFeatures, FeatureSpec } from '../../core/model/features.ts';
import { binCount, binInto, inputValues, MAX_BINS, type TreeInput } from '../../core/model/tree-inputs.ts';
import type { Table } from '../../core/data/table.ts';
import { seededRandom } from '../../core/platform/random.ts';

export interface InputOptions {
  maxBins: number;
  /** Crosses with more categories than this use a target statistic (or are left out). */
  nativeMaxCategories: number;
  highCardinality: 'target_statistics' | 'drop' | 'top_categories';
  targetSmoothing: number;
  targetFolds: number;
  seed: number;
  /** 1 (binary 0/1 or regression) or the number of classes (y holds class indices). */
  classes: number;
}

export interface FittedInputs {
  inputs: TreeInput[];
  /** The training rows' bins (rows × inputs, row-major), target statistics out-of-fold. */
  bins: Uint8Array;
  binCounts: number[];
  /** Inputs of the spec the ensemble does not read, with why. */
  left_out: string[];
}

/** Increasing cut points giving at most `maxBins − 1` value bins (bin 0 is missing): midpoints of distinct values, or quantiles. */
export function fitEdges(values: Float64Array, maxBins: number): number[] {
  const finite = values.filter((v) => Number.isFinite(v));
  // Quantiles of a strided sample (200k values, like HistGradientBoosting's subsample) are as good and much cheaper to sort.
  const step = Math.max(1, Math.floor(finite.length / 200_000));
  const sample = step === 1 ? finite : finite.filter((_, i) => i % step === 0);
  const sorted = sample.sort();
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
  const valueBins = Math.min(maxBins, MAX_BINS) - 1;
  if (distinct.length <= valueBins) return distinct.slice(1).map((v, i) => (distinct[i] + v) / 2);
  const edges: number[] = [];
  for (let j = 1; j < valueBins; j++) {
    const v = sorted[Math.floor((j * sorted.length) / valueBins)];
    if (edges.length === 0 || v > edges[edges.length - 1]) edges.push(v);
  }
  return edges;
}

/** Vocabulary index → bin for a categorical input with more categories than bins: the most frequent get their own. */
function categoryBins(indices: Int32Array, cardinality: number): number[] | undefined {
  if (cardinality <= MAX_BINS) return undefined;
  const counts = new Float64Array(cardinality);
  for (const i of indices) counts[i]++;
  const ranked = Array.from({ length: cardinality - 1 }, (_, i) => i + 1).sort(
    (a, b) => counts[b] - counts[a] || a - b,
  );
  const map = new Array<number>(cardinality).fill(0);
  ranked.slice(0, MAX_BINS - 1).forEach((index, rank) => (map[index] = rank + 1));
  return map;
}

/** Smoothed target means per category: (sum + m·prior) / (count + m), from the rows where `use` is true. */
function categoryStats(
  indices: Int32Array,
  target: Float64Array,
  cardinality: number,
  m: number,
  use: (r: number) => boolean,
): Float64Array {
  const sum = new Float64Array(cardinality);
  const count = new Float64Array(cardinality);
  let total = 0;
  let rows = 0;
  for (let r = 0; r < indices.length; r++) {
    if (!use(r)) continue;
    sum[indices[r]] += target[r];
    count[indices[r]]++;
    total += target[r];
    rows++;
  }
  const prior = rows ? total / rows : 0;
  return sum.map((s, i) => (s + m * prior) / (count[i] + m));
}

export function fitInputs(
  spec: FeatureSpec,
  enc: EncodedFeatures,
  table: Table,
  y: Float32Array,
  o: InputOptions,
): FittedInputs {
  const inputs: TreeInput[] = [];
  const trainValues: Float64Array[] = [];
  const left_out: string[] = [];
  const ordered = (input: TreeInput, values: Float64Array) => {
    input.edges = fitEdges(values, o.maxBins);
    inputs.push(input);
    trainValues.push(values);
  };
  for (const f of spec.features) {
    if (f.kind === 'numeric') {
      const input: TreeInput = { name: f.name, kind: 'ordered', from: 'numeric' };
      ordered(input, inputValues(input, enc, table, spec));
    } else if (f.kind === 'datetime') {
      for (const part of f.parts) {
        const input: TreeInput = { name: `${f.name}.${part}`, kind: 'ordered', from: 'index' };
        ordered(input, inputValues(input, enc, table, spec));
      }
    }
  }
  const time = table.columns[spec.time_column];
  const folds = foldOf(enc.rows, o.targetFolds, o.seed, time && time.type !== 'string' ? time.values : undefined);
  for (const f of spec.features) {
    if (f.kind !== 'categorical' && f.kind !== 'cross') continue;
    const cat = enc.categorical.find((c) => c.name === f.name)!;
    if (
      f.kind === 'categorical' ||
      o.highCardinality === 'top_categories' ||
      cat.cardinality <= Math.min(o.nativeMaxCategories, MAX_BINS)
    ) {
      const input: TreeInput = { name: f.name, kind: 'categorical', from: 'index' };
      const map = categoryBins(cat.indices, cat.cardinality);
      if (map) input.category_bins = map;
      inputs.push(input);
      trainValues.push(Float64Array.from(cat.indices));
      continue;
    }
    if (o.highCardinality === 'drop') {
      left_out.push(`${f.name} (${cat.cardinality} categories; high_cardinality: drop)`);
      continue;
    }
    for (let c = 0; c < o.classes; c++) {
      const target = Float64Array.from(y, (v) => (o.classes > 1 ? (v === c ? 1 : 0) : v));
      const m = o.targetSmoothing;
      const outOfFold = Array.from({ length: o.targetFolds }, (_, k) =>
        categoryStats(cat.indices, target, cat.cardinality, m, (r) => folds[r] !== k),
      );
      const values = Float64Array.from(cat.indices, (i, r) => outOfFold[folds[r]][i]);
      const stats = Array.from(categoryStats(cat.indices, target, cat.cardinality, m, () => true));
      ordered({ name: f.name, kind: 'ordered', from: 'target_stat', stats }, values);
    }
  }
  const width = inputs.length;
  const bins = new Uint8Array(enc.rows * width);
  inputs.forEach((input, f) => binInto(input, trainValues[f], bins, f, width));
  const binCounts = inputs.map((input) =>
    binCount(input, enc.categorical.find((c) => c.name === input.name)?.cardinality),
  );
  return { inputs, bins, binCounts, left_out };
}

/**
 * A seeded fold (0…k−1) per row; with timestamps, per day: flights of the same day share its
 * weather, so a statistic from the row's own day (other rows, same storm) would tell the tree
 * what it cannot know at serving time, and it learns to trust the statistic too much.
 */
function foldOf(rows: number, k: number, seed: number, times?: ArrayLike<number>): Uint8Array {
  const random = seededRandom(seed ^ 0x5f3759df);
  if (!times) return Uint8Array.from({ length: rows }, () => Math.floor(random() * k));
  const dayFold = new Map<number, number>();
  return Uint8Array.from({ length: rows }, (_, r) => {
    const day = Number.isFinite(times[r]) ? Math.floor(times[r] / 86_400_000) : -1;
    let f = dayFold.get(day);
    if (f === undefined) dayFold.set(day, (f = Math.floor(random() * k)));
    return f;
  });
}
