/**
 * Reference profile of the training inputs, shipped with the model so serving can bin live
 * traffic against the same edges and compute drift (KS, chi-squared, PSI, ...) without the data.
 */
import {
  countCategories,
  datetimePart,
  PART_CARDINALITY,
  quantileAt,
  type DatetimePart,
  type FeatureSpec,
} from './features.ts';
import { ValueCounts } from './value-counts.ts';
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
  return new ProfileAccumulator(spec, options).add(table).finish();
}

/**
 * Datetime parts profiled as numbers (quantile bins), not as one category per value: a
 * minute-of-day has 1,440 values, and a window of a few thousand rows drawn from the training
 * distribution itself leaves most of them empty or doubled, which a per-category distance reads
 * as drift (0.21 at 5,000 rows, over the 0.1 threshold). Hours, weekdays, months and days of the
 * month stay categories: few enough values for a window to fill.
 */
export const NUMERIC_PARTS: ReadonlySet<DatetimePart> = new Set(['minute_of_day']);

/**
 * Where a profiled feature's values come from: its own column, or a datetime part of a timestamp
 * column (`date.minute_of_day`: column `date`, part `minute_of_day`). A column named with a dot
 * that the table has is its own column.
 */
export function profiledSource(
  name: string,
  columns?: Record<string, unknown>,
): { column: string; part?: DatetimePart } {
  if (columns && Object.hasOwn(columns, name)) return { column: name };
  const dot = name.lastIndexOf('.');
  const part = dot > 0 ? name.slice(dot + 1) : '';
  return part in PART_CARDINALITY ? { column: name.slice(0, dot), part: part as DatetimePart } : { column: name };
}

/** The numbers a numeric profile bins: a number column's values, or a part of each timestamp (NaN where missing). */
export function profiledNumbers(c: Column, part: DatetimePart | undefined): ArrayLike<number> {
  if (c.type === 'string') throw new Error('a numeric profile needs a number or timestamp column');
  if (!part) return c.values;
  return Float64Array.from(c.values, (v) => (Number.isFinite(v) ? datetimePart(v, part) : NaN));
}

type Counted = { counts: Map<string, number>; missing: number };
type FeatureAcc =
  | { kind: 'numeric'; name: string; values: ValueCounts; part?: DatetimePart; column: string }
  | { kind: 'categorical'; name: string; acc: Counted }
  | { kind: 'datetime'; name: string; parts: { part: DatetimePart; counts: Float64Array; missing: number }[] };

/**
 * profileTable over rows that arrive a chunk at a time: it holds counts per distinct value and
 * category, not rows, and the profile equals profileTable of all chunks together.
 */
export class ProfileAccumulator {
  private rows = 0;
  private readonly features: FeatureAcc[];

  constructor(
    spec: FeatureSpec,
    private readonly options: { bins: number; topCategories: number },
  ) {
    // Crosses are derived from profiled features; drift is watched on those.
    this.features = spec.features.flatMap((f): FeatureAcc[] => {
      if (f.kind === 'numeric') return [{ kind: 'numeric', name: f.name, values: new ValueCounts(), column: f.name }];
      if (f.kind === 'categorical')
        return [{ kind: 'categorical', name: f.name, acc: { counts: new Map(), missing: 0 } }];
      if (f.kind === 'datetime')
        return [
          {
            kind: 'datetime',
            name: f.name,
            parts: f.parts
              .filter((part) => !NUMERIC_PARTS.has(part))
              .map((part) => ({ part, counts: new Float64Array(PART_CARDINALITY[part]), missing: 0 })),
          },
          ...f.parts
            .filter((part) => NUMERIC_PARTS.has(part))
            .map((part): FeatureAcc => ({
              kind: 'numeric',
              name: `${f.name}.${part}`,
              values: new ValueCounts(),
              part,
              column: f.name,
            })),
        ];
      return [];
    });
  }

  add(table: Table): this {
    this.rows += table.length;
    for (const f of this.features) {
      const column = f.kind === 'numeric' ? f.column : f.name;
      const c = table.columns[column];
      if (!c) throw new Error(`cannot profile "${column}": no such column`);
      if (f.kind === 'numeric') {
        if (c.type === 'string') throw new Error('numeric profile needs a number column');
        f.values.add(profiledNumbers(c, f.part));
      } else if (f.kind === 'categorical') countInto(f.acc, c);
      else {
        if (c.type === 'string') throw new Error(`"${f.name}" must be a timestamp column`);
        for (const p of f.parts)
          for (const v of c.values) {
            if (Number.isFinite(v)) p.counts[datetimePart(v, p.part)]++;
            else p.missing++;
          }
      }
    }
    return this;
  }

  finish(): ReferenceProfile {
    const features: Record<string, FeatureProfile> = {};
    for (const f of this.features) {
      if (f.kind === 'numeric') features[f.name] = profileNumericCounts(f.values, this.options.bins);
      else if (f.kind === 'categorical') features[f.name] = profileCounts(f.acc, this.options.topCategories);
      else
        for (const p of f.parts) {
          const counts = new Map<string, number>();
          p.counts.forEach((n, v) => n > 0 && counts.set(String(v), n));
          features[`${f.name}.${p.part}`] = profileCounts({ counts, missing: p.missing }, Infinity);
        }
    }
    return { version: 1, rows: this.rows, features };
  }
}

export function profileNumeric(c: Column, bins: number): NumericProfile {
  if (c.type === 'string') throw new Error('numeric profile needs a number column');
  return profileNumericCounts(new ValueCounts().add(c.values), bins);
}

function profileNumericCounts(values: ValueCounts, bins: number): NumericProfile {
  const sorted = values.sorted();
  const n = sorted.n;
  const at = (i: number) => sorted.at(i);
  // Summed in ascending order, as over the sorted column.
  const { sum, sumSq } = sorted.sortedSums();
  const mean = n ? sum / n : NaN;
  const std = n ? Math.sqrt(Math.max(0, sumSq / n - mean * mean)) : NaN;
  const edges = quantileEdgesAt(n, at, bins);
  const counts = new Array<number>(histogramBinCount(edges)).fill(0);
  for (let i = 0; i < sorted.values.length; i++) counts[histogramBin(edges, sorted.values[i])] += sorted.count(i);
  return {
    kind: 'numeric',
    count: n,
    missing: values.missing,
    mean,
    std,
    min: n ? sorted.values[0] : NaN,
    max: n ? sorted.values[sorted.values.length - 1] : NaN,
    quantiles: PROFILE_QUANTILES.map((q) => ({ q, value: quantileAt(n, at, q) })),
    histogram: { edges, counts },
  };
}

/** Edges at evenly spaced quantiles, de-duplicated (heavy ties collapse bins). */
export function quantileEdges(sorted: Float64Array, bins: number): number[] {
  return quantileEdgesAt(sorted.length, (i) => sorted[i], bins);
}

function quantileEdgesAt(n: number, at: (i: number) => number, bins: number): number[] {
  if (n === 0) return [];
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) {
    const e = quantileAt(n, at, i / bins);
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
  const acc: Counted = { counts: new Map(), missing: 0 };
  countInto(acc, c);
  return profileCounts(acc, top);
}

function countInto(acc: Counted, c: Column): void {
  if (c.type === 'string') {
    for (const [v, n] of countCategories(c)) acc.counts.set(v, (acc.counts.get(v) ?? 0) + n);
    for (const code of c.codes) if (code < 0) acc.missing++;
  } else
    for (const v of c.values) {
      if (!Number.isFinite(v)) acc.missing++;
      else acc.counts.set(String(v), (acc.counts.get(String(v)) ?? 0) + 1);
    }
}

function profileCounts({ counts, missing }: Counted, top: number): CategoricalProfile {
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
