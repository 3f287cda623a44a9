/**
 * Text fallbacks: each chart as a small Markdown table, for readers without images (mail
 * notifications, screen readers, `git diff` of report.md).
 */
import { formatCount, formatNumber, formatPercent, table } from './markdown.ts';
import {
  confusionTotal,
  DEFAULT_CLASS_LABELS,
  subsample,
  type CalibrationBin,
  type ClassLabels,
  type ConfusionCounts,
  type DistributionBin,
  type HistogramBin,
  type LinePoint,
  type PrPoint,
  type RocPoint,
} from './data.ts';

export const TABLE_ROWS = 10;

/** Rates and probabilities share one fixed format so table columns line up. */
const rate = (x: number | null) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(4));

function sampledNote(total: number, shown: number): string {
  return total > shown ? `\n\n${shown} of ${formatCount(total)} points, evenly spaced, first and last kept.` : '';
}

export function rocTable(points: readonly RocPoint[], rows = TABLE_ROWS): string {
  const sample = subsample(points, rows);
  const body = table(
    ['threshold', 'false positive rate', 'true positive rate'],
    sample.map((p) => [rate(p.threshold), rate(p.fpr), rate(p.tpr)]),
    ['right', 'right', 'right'],
  );
  return body + sampledNote(points.length, sample.length);
}

export function prTable(points: readonly PrPoint[], rows = TABLE_ROWS): string {
  const sample = subsample(points, rows);
  const body = table(
    ['threshold', 'recall', 'precision'],
    sample.map((p) => [rate(p.threshold), rate(p.recall), rate(p.precision)]),
    ['right', 'right', 'right'],
  );
  return body + sampledNote(points.length, sample.length);
}

export function calibrationTable(bins: readonly CalibrationBin[]): string {
  return table(
    ['predicted range', 'mean predicted', 'observed positive', 'gap', 'rows'],
    bins.map((b) => [
      `${b.lower.toFixed(2)}–${b.upper.toFixed(2)}`,
      rate(b.mean_predicted),
      rate(b.fraction_positive),
      b.mean_predicted === null || b.fraction_positive === null
        ? '—'
        : formatNumber(b.fraction_positive - b.mean_predicted, { signed: true }),
      formatCount(b.count),
    ]),
    ['left', 'right', 'right', 'right', 'right'],
  );
}

export function confusionTable(c: ConfusionCounts, labels: ClassLabels = DEFAULT_CLASS_LABELS): string {
  const total = confusionTotal(c);
  const cell = (name: string, n: number) => `${name} ${formatCount(n)} (${total ? formatPercent(n / total) : '—'})`;
  return table(
    ['actual ↓ predicted →', labels.negative, labels.positive, 'total'],
    [
      [labels.negative, cell('TN', c.tn), cell('FP', c.fp), formatCount(c.tn + c.fp)],
      [labels.positive, cell('FN', c.fn), cell('TP', c.tp), formatCount(c.fn + c.tp)],
      ['total', formatCount(c.tn + c.fn), formatCount(c.fp + c.tp), formatCount(total)],
    ],
    ['left', 'right', 'right', 'right'],
  );
}

export function distributionTable(bins: readonly DistributionBin[]): string {
  return table(
    ['bin', 'train', 'test', 'difference'],
    bins.map((b) => [b.bin, formatPercent(b.train), formatPercent(b.test), percentagePoints(b.test - b.train)]),
    ['left', 'right', 'right', 'right'],
  );
}

/** A share difference in percentage points, signed, without a "-0.0". */
function percentagePoints(diff: number): string {
  const pp = Math.round(diff * 1000) / 10 || 0;
  return `${pp > 0 ? '+' : ''}${pp.toFixed(1)} pp`;
}

export function histogramTable(bins: readonly HistogramBin[]): string {
  const total = bins.reduce((s, b) => s + b.count, 0);
  return table(
    ['bin', 'rows', 'share'],
    bins.map((b) => [b.bin, formatCount(b.count), total ? formatPercent(b.count / total) : '—']),
    ['left', 'right', 'right'],
  );
}

export function lineTable(
  points: readonly LinePoint[],
  headers: { x: string; y: string },
  rows = TABLE_ROWS * 2,
): string {
  const named = points.some((p) => p.series !== undefined);
  const sample = subsample(points, rows);
  const body = table(
    named ? ['series', headers.x, headers.y] : [headers.x, headers.y],
    sample.map((p) => {
      const xy = [typeof p.x === 'number' ? formatNumber(p.x) : p.x, formatNumber(p.y)];
      return named ? [p.series ?? '', ...xy] : xy;
    }),
    named ? ['left', 'right', 'right'] : ['right', 'right'],
  );
  return body + sampledNote(points.length, sample.length);
}
