/**
 * Turns a current window into counts comparable with the reference profile: numeric values on
 * the reference histogram edges (plus below/above-range buckets), categories on the reference's
 * listed values (plus its pooled "other" and an "unseen" bucket). The API accumulates the same
 * window shapes incrementally; the batch report builds them here from raw values.
 */
import { histogramBin, type CategoricalProfile, type NumericProfile } from '../model/profile.ts';
import { isMissing } from './result.ts';

/** Counts of one numeric feature's current window over the reference histogram edges. */
export interface NumericWindow {
  /** counts[i] covers [edges[i], edges[i+1]) of the reference histogram; the last bin is closed. */
  counts: number[];
  /** Values below the first edge / above the last edge. */
  below: number;
  above: number;
  /** Optional sums of the below/above values: they make the binned Wasserstein distance exact outside the edges. */
  below_sum?: number;
  above_sum?: number;
  missing: number;
  /** Rows seen including missing (informational; tests use the counts themselves). */
  n?: number;
}

/** Counts of one categorical feature's current window. */
export interface CategoricalWindow {
  /** Counts by value. Values the reference does not list go to its "other" bucket when it pooled a tail, else to "unseen". */
  counts: Map<string, number> | Record<string, number>;
  /** Values already known to be new (e.g. outside the model vocabulary). */
  unseen: number;
  missing: number;
  n?: number;
}

export const OTHER_BUCKET = '(other)';
export const UNSEEN_BUCKET = '(unseen)';

/** `into`: a window of earlier rows to add these to (a table read a row group at a time), as if binned in one call. */
export function binNumeric(
  profile: NumericProfile,
  values: ArrayLike<number | null | undefined>,
  into?: NumericWindow,
): NumericWindow {
  const edges = profile.histogram.edges;
  const window: NumericWindow = into ?? {
    counts: new Array<number>(profile.histogram.counts.length).fill(0),
    below: 0,
    above: 0,
    below_sum: 0,
    above_sum: 0,
    missing: 0,
    n: 0,
  };
  window.n = (window.n ?? 0) + values.length;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) window.missing++;
    else addNumeric(window, edges, v as number);
  }
  return window;
}

/** Adds one finite value to a numeric window in place (the API's per-request update); a NaN counts as missing. */
export function addNumeric(window: NumericWindow, edges: number[], v: number): void {
  if (edges.length === 0 || window.counts.length === 0)
    throw new Error(
      'the reference histogram has no edges (the feature had no values in training); it cannot be binned',
    );
  if (Number.isNaN(v)) window.missing++;
  else if (v < edges[0]) {
    window.below++;
    window.below_sum = (window.below_sum ?? 0) + v;
  } else if (v > edges[edges.length - 1]) {
    window.above++;
    window.above_sum = (window.above_sum ?? 0) + v;
  } else window.counts[histogramBin(edges, v)]++;
}

/** Which reference bucket a current value belongs to. */
export function categoryBucket(profile: CategoricalProfile, value: string): string {
  if (profile.top.some((t) => t.value === value)) return value;
  // A reference that pooled a tail may have seen this value inside "other"; only a fully listed reference proves it new.
  return profile.other > 0 ? OTHER_BUCKET : UNSEEN_BUCKET;
}

export function countCategories(
  profile: CategoricalProfile,
  values: ArrayLike<string | number | null | undefined>,
  into?: CategoricalWindow & { counts: Map<string, number> },
): CategoricalWindow & { counts: Map<string, number> } {
  const counts = into?.counts ?? new Map<string, number>();
  let unseen = into?.unseen ?? 0,
    missing = into?.missing ?? 0;
  const listed = new Set(profile.top.map((t) => t.value));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) {
      missing++;
      continue;
    }
    const key = String(v);
    if (!listed.has(key) && profile.other === 0) unseen++;
    else counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { counts, unseen, missing, n: (into?.n ?? 0) + values.length };
}

/** Bin raw values against a reference feature profile: histogram counts for numeric, category counts for categorical. */
export function binAgainst(
  profile: NumericProfile,
  values: ArrayLike<number | null | undefined>,
  into?: NumericWindow,
): NumericWindow;
export function binAgainst(
  profile: CategoricalProfile,
  values: ArrayLike<string | number | null | undefined>,
  into?: CategoricalWindow,
): CategoricalWindow;
export function binAgainst(
  profile: NumericProfile | CategoricalProfile,
  values: ArrayLike<string | number | null | undefined>,
  into?: NumericWindow | CategoricalWindow,
): NumericWindow | CategoricalWindow {
  if (profile.kind === 'numeric') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === 'string')
        throw new Error(
          `numeric feature got the string "${v}" at position ${i}; convert values to numbers (null for missing) before binning`,
        );
    }
    return binNumeric(profile, values as ArrayLike<number | null | undefined>, into as NumericWindow | undefined);
  }
  return countCategories(profile, values, into as (CategoricalWindow & { counts: Map<string, number> }) | undefined);
}

/** Aligned count vectors [below, bins…, above] for the reference profile and a current window. */
export function numericVectors(
  profile: NumericProfile,
  window: NumericWindow,
): { reference: number[]; current: number[] } {
  const bins = profile.histogram.counts.length;
  if (window.counts.length !== bins)
    throw new Error(
      `the current window has ${window.counts.length} bins but the reference histogram has ${bins}; bin against the reference edges of this model bundle`,
    );
  return { reference: [0, ...profile.histogram.counts, 0], current: [window.below, ...window.counts, window.above] };
}

/** Aligned count vectors over the reference's listed values, its pooled "other" and an "unseen" bucket. */
export function categoricalVectors(
  profile: CategoricalProfile,
  window: CategoricalWindow,
): { labels: string[]; reference: number[]; current: number[]; unseen: number } {
  const labels = [...profile.top.map((t) => t.value), OTHER_BUCKET, UNSEEN_BUCKET];
  const index = new Map(labels.map((l, i) => [l, i]));
  const reference = [...profile.top.map((t) => t.count), profile.other, 0];
  const current = new Array<number>(labels.length).fill(0);
  const entries = window.counts instanceof Map ? [...window.counts.entries()] : Object.entries(window.counts);
  for (const [value, count] of entries) {
    if (!(count >= 0)) throw new Error(`category "${value}" has count ${count}; counts must be non-negative numbers`);
    current[index.get(categoryBucket(profile, value))!] += count;
  }
  current[labels.length - 1] += window.unseen;
  return { labels, reference, current, unseen: current[labels.length - 1] };
}
