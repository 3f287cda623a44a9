/** The shapes charts take (the JSON the evaluate stage writes) and the reductions they share. */

export interface RocPoint {
  fpr: number;
  tpr: number;
  /** The first point of a curve has no finite threshold; JSON carries it as null. */
  threshold: number | null;
}

export interface PrPoint {
  recall: number;
  precision: number;
  threshold: number | null;
}

export interface CalibrationBin {
  bin: number;
  lower: number;
  upper: number;
  /** null for an empty bin. */
  mean_predicted: number | null;
  fraction_positive: number | null;
  count: number;
}

export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface DistributionBin {
  bin: string;
  /** Share of train rows in the bin, in [0, 1]. */
  train: number;
  test: number;
}

export interface HistogramBin {
  bin: string;
  count: number;
}

export interface LinePoint {
  x: number | string;
  y: number;
  /** Lines are drawn per series; one unnamed series when absent. */
  series?: string;
}

export interface ClassLabels {
  negative: string;
  positive: string;
}

export const DEFAULT_CLASS_LABELS: ClassLabels = { negative: 'negative (0)', positive: 'positive (1)' };

/**
 * At most `max` items, evenly spaced by index, always keeping the first and the last (curves must
 * still start and end where they do). Deterministic: the same input gives the same sample.
 */
export function subsample<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  if (max < 2) return items.slice(0, Math.max(0, max));
  const out: T[] = [];
  const step = (items.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(items[Math.round(i * step)]);
  return out;
}

/** Half the summed absolute share differences: 0 = same distribution, 1 = disjoint. */
export function totalVariation(bins: readonly DistributionBin[]): number {
  return bins.reduce((s, b) => s + Math.abs(b.train - b.test), 0) / 2;
}

/**
 * Keep the `max - 1` bins with the largest share in either split and fold the rest into one
 * "other" bin, so a feature with hundreds of categories stays a readable chart.
 */
export function foldSmallBins(bins: readonly DistributionBin[], max: number): DistributionBin[] {
  if (bins.length <= max) return [...bins];
  const ranked = bins
    .map((b, i) => ({ b, i, weight: Math.max(b.train, b.test) }))
    .sort((x, y) => y.weight - x.weight || x.i - y.i);
  const keep = new Set(ranked.slice(0, max - 1).map((r) => r.i));
  const rest = bins.filter((_, i) => !keep.has(i));
  const other: DistributionBin = {
    bin: `(${rest.length} other)`,
    train: rest.reduce((s, b) => s + b.train, 0),
    test: rest.reduce((s, b) => s + b.test, 0),
  };
  return [...bins.filter((_, i) => keep.has(i)), other];
}

export function confusionTotal(c: ConfusionCounts): number {
  return c.tp + c.fp + c.tn + c.fn;
}
