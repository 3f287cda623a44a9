/**
 * Reference profile of the training inputs, shipped with the model so serving can bin live
 * traffic against the same edges and compute drift (KS, chi-squared, PSI, ...) without the data.
 */
import { countCategories, datetimePart, quantileSorted, type FeatureSpec } from './features.ts';
import type { Column, Table } from '../data/table.ts';

export const PROFILE_QUANTILES = [0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1];

export interface NumericProfile {
  kind: 'numeric';
  count: number;
  missing: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  quantiles: { q: number; value: number }[];
  /** Quantile bin edges (strictly increasing); counts[i] covers [edges[i], edges[i+1]), last bin closed. */
  histogram: { edges: number[]; counts: number[] };
}
export interface CategoricalProfile {
  kind: 'categorical';
  count: number;
  missing: number;
  distinct: number;
  /** Most frequent values, by count descending. */
  top: { value: string; count: number }[];
  other: number;
}
export type FeatureProfile = NumericProfile | CategoricalProfile;

export interface ReferenceProfile {
  version: 1;
  rows: number;
  features: Record<string, FeatureProfile>;
}

export function profileTable(
  table: Table,
  spec: FeatureSpec,
  options: { bins: number; topCategories: number },
): ReferenceProfile {
  const features: Record<string, FeatureProfile> = {};
  for (const f of spec.features) {
    if (f.kind === 'cross') continue; // derived from profiled features; drift is watched on those
    const c = table.columns[f.name];
    if (!c) throw new Error(`cannot profile "${f.name}": no such column`);
    if (f.kind === 'numeric') features[f.name] = profileNumeric(c, options.bins);
    else if (f.kind === 'categorical') features[f.name] = profileCategorical(c, options.topCategories);
    else {
      if (c.type === 'string') throw new Error(`"${f.name}" must be a timestamp column`);
      for (const part of f.parts) {
        const values = new Float64Array(c.values.length);
        for (let i = 0; i < values.length; i++)
          values[i] = Number.isFinite(c.values[i]) ? datetimePart(c.values[i], part) : NaN;
        features[`${f.name}.${part}`] = profileCategorical({ type: 'number', values }, Infinity);
      }
    }
  }
  return { version: 1, rows: table.length, features };
}

export function profileNumeric(c: Column, bins: number): NumericProfile {
  if (c.type === 'string') throw new Error('numeric profile needs a number column');
  const finite = Float64Array.from(c.values.filter((v) => Number.isFinite(v))).sort();
  const n = finite.length;
  let sum = 0,
    sumSq = 0;
  for (const v of finite) {
    sum += v;
    sumSq += v * v;
  }
  const mean = n ? sum / n : NaN;
  const std = n ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) : NaN;
  const edges = quantileEdges(finite, bins);
  return {
    kind: 'numeric',
    count: n,
    missing: c.values.length - n,
    mean,
    std,
    min: n ? finite[0] : NaN,
    max: n ? finite[n - 1] : NaN,
    quantiles: PROFILE_QUANTILES.map((q) => ({ q, value: quantileSorted(finite, q) })),
    histogram: { edges, counts: histogram(finite, edges) },
  };
}

/** Edges at evenly spaced quantiles, de-duplicated (heavy ties collapse bins). */
export function quantileEdges(sorted: Float64Array, bins: number): number[] {
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) {
    const e = quantileSorted(sorted, i / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  if (edges.length === 1) edges.push(edges[0]);
  return edges;
}

/** How many bins histogram `edges` make: one between each two edges, and one when there are none (no finite values). */
export function histogramBinCount(edges: ArrayLike<number>): number {
  return Math.max(1, edges.length - 1);
}

/**
 * The bin of `v` on histogram `edges`, the one rule every consumer bins by (the profile here, the
 * batch drift windows of core/drift/binning.ts, the API's live windows): bin i covers
 * [edges[i], edges[i+1]) and the last bin is closed, i.e. the last edge ≤ v picks the bin. A value
 * below the first edge falls in bin 0 and one above the last edge in the last bin (callers that
 * count those apart check the ends first); NaN has no bin (-1).
 */
export function histogramBin(edges: ArrayLike<number>, v: number): number {
  if (Number.isNaN(v)) return -1;
  let lo = 0,
    hi = histogramBinCount(edges) - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (v >= edges[mid]) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Counts per bin; values below the first edge go to the first bin, above the last to the last; non-finite values are skipped. */
export function histogram(values: ArrayLike<number>, edges: number[]): number[] {
  const counts = new Array<number>(histogramBinCount(edges)).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[histogramBin(edges, v)]++;
  }
  return counts;
}

export function profileCategorical(c: Column, top: number): CategoricalProfile {
  let counts: Map<string, number>;
  let missing = 0;
  if (c.type === 'string') {
    counts = countCategories(c);
    for (const code of c.codes) if (code < 0) missing++;
  } else {
    counts = new Map();
    for (const v of c.values) {
      if (!Number.isFinite(v)) missing++;
      else counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    }
  }
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept = sorted.slice(0, top);
  const total = sorted.reduce((s, [, n]) => s + n, 0);
  const keptTotal = kept.reduce((s, [, n]) => s + n, 0);
  return {
    kind: 'categorical',
    count: total,
    missing,
    distinct: counts.size,
    top: kept.map(([value, count]) => ({ value, count })),
    other: total - keptTotal,
  };
}
