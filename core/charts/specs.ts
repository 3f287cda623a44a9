/**
 * Vega-Lite specs for the report's chart kinds. Pure: data in, spec out, nothing rendered here.
 * Every chart has a title, axis titles that say the unit, and fits ~600×400 at scale 1.
 */
import type { TopLevelSpec } from 'vega-lite';
import { formatCount, formatNumber, formatPercent } from './markdown.ts';
import {
  DEFAULT_CLASS_LABELS,
  foldSmallBins,
  subsample,
  totalVariation,
  type CalibrationBin,
  type ClassLabels,
  type ConfusionCounts,
  type DistributionBin,
  type HistogramBin,
  type LinePoint,
  type PrPoint,
  type RocPoint,
} from './data.ts';

export const PLOT_WIDTH = 520;
export const PLOT_HEIGHT = 320;
/** Curves with thousands of thresholds look the same with a few hundred points, at a fraction of the size. */
export const MAX_CURVE_POINTS = 300;
export const MAX_DISTRIBUTION_BINS = 25;

const MODEL_COLOR = '#1f5fa8';
const REFERENCE_COLOR = '#9a9a9a';
const SPLIT_COLORS = { train: '#4c78a8', test: '#f58518' };

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const unitAxis = { domain: [0, 1], nice: false };

function pointsDrawn(total: number, drawn: number): string {
  return `${formatCount(total)} points (one per threshold)${total > drawn ? `, ${drawn} drawn` : ''}`;
}

function title(text: string, subtitle?: string) {
  return subtitle ? { text, subtitle } : { text };
}

/** DejaVu Sans at the axis label size averages about 7.5 px per character. */
const LABEL_PX_PER_CHAR = 7.5;

/** Labels under the x axis tilt when they would not fit side by side, and get an ellipsis past 120 px. */
function categoryAxis(labels: string[], axisTitle: string) {
  const slot = PLOT_WIDTH / Math.max(1, labels.length);
  const widest = Math.max(0, ...labels.map((l) => l.length)) * LABEL_PX_PER_CHAR;
  return { title: axisTitle, labelAngle: widest > slot * 0.9 ? -40 : 0, labelLimit: 120, labelOverlap: false as const };
}

/** One model curve over a dashed reference line, both in the legend. */
function curveSpec(options: {
  title: { text: string; subtitle?: string };
  x: { field: string; title: string };
  y: { field: string; title: string };
  curve: Record<string, unknown>[];
  curveLabel: string;
  reference: Record<string, unknown>[];
  referenceLabel: string;
  legend: 'bottom-right' | 'top-right';
}): TopLevelSpec {
  const { x, y, curveLabel, referenceLabel } = options;
  const series = { domain: [curveLabel, referenceLabel], range: [MODEL_COLOR, REFERENCE_COLOR] };
  return {
    $schema: SCHEMA,
    title: options.title,
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    encoding: {
      x: { field: x.field, type: 'quantitative', title: x.title, scale: unitAxis },
      y: { field: y.field, type: 'quantitative', title: y.title, scale: unitAxis },
      color: {
        field: 'series',
        type: 'nominal',
        scale: series,
        legend: { title: null, orient: options.legend, fillColor: 'white', padding: 6, labelLimit: 320 },
      },
      order: { field: 'order', type: 'quantitative' },
    },
    layer: [
      {
        data: { values: options.reference.map((p, order) => ({ ...p, order, series: referenceLabel })) },
        mark: { type: 'line', strokeDash: [6, 4], strokeWidth: 1.5 },
      },
      {
        data: { values: options.curve.map((p, order) => ({ ...p, order, series: curveLabel })) },
        mark: { type: 'line', strokeWidth: 2.5 },
      },
    ],
  };
}

export function rocSpec(points: readonly RocPoint[], options: { auc?: number; title?: string } = {}): TopLevelSpec {
  const curve = subsample(points, MAX_CURVE_POINTS).map(({ fpr, tpr }) => ({ fpr, tpr }));
  return curveSpec({
    title: title(options.title ?? 'ROC curve (test set)', pointsDrawn(points.length, curve.length)),
    x: { field: 'fpr', title: 'False positive rate (fraction of negatives)' },
    y: { field: 'tpr', title: 'True positive rate (fraction of positives)' },
    curve,
    curveLabel: options.auc === undefined ? 'model' : `model (AUC ${formatNumber(options.auc)})`,
    reference: [
      { fpr: 0, tpr: 0 },
      { fpr: 1, tpr: 1 },
    ],
    referenceLabel: 'random guess (AUC 0.5)',
    legend: 'bottom-right',
  });
}

export function prSpec(
  points: readonly PrPoint[],
  options: { averagePrecision?: number; positiveRate?: number; title?: string } = {},
): TopLevelSpec {
  const curve = subsample(points, MAX_CURVE_POINTS).map(({ recall, precision }) => ({ recall, precision }));
  const rate = options.positiveRate;
  return curveSpec({
    title: title(options.title ?? 'Precision–recall curve (test set)', pointsDrawn(points.length, curve.length)),
    x: { field: 'recall', title: 'Recall (fraction of positives found)' },
    y: { field: 'precision', title: 'Precision (fraction of flagged that are positive)' },
    curve,
    curveLabel:
      options.averagePrecision === undefined ? 'model' : `model (AP ${formatNumber(options.averagePrecision)})`,
    reference:
      rate === undefined
        ? []
        : [
            { recall: 0, precision: rate },
            { recall: 1, precision: rate },
          ],
    referenceLabel: rate === undefined ? 'no-skill' : `no-skill (positive rate ${formatPercent(rate)})`,
    // A PR curve ends low on the right, where a bottom legend would hide it.
    legend: 'top-right',
  });
}

export function calibrationSpec(bins: readonly CalibrationBin[], options: { title?: string } = {}): TopLevelSpec {
  const filled = bins.filter((b) => b.count > 0 && b.mean_predicted !== null && b.fraction_positive !== null);
  const rows = bins.reduce((s, b) => s + b.count, 0);
  // The count bars below carry the x-axis title; the curve keeps only the tick labels.
  const x = { field: 'mean_predicted', type: 'quantitative', scale: unitAxis, axis: { title: null } };
  return {
    $schema: SCHEMA,
    title: title(
      options.title ?? 'Calibration (test set)',
      `${bins.length} probability bins, ${formatCount(rows)} rows; on the diagonal = calibrated`,
    ),
    vconcat: [
      {
        width: PLOT_WIDTH,
        height: 250,
        layer: [
          {
            data: {
              values: [
                { mean_predicted: 0, fraction_positive: 0 },
                { mean_predicted: 1, fraction_positive: 1 },
              ],
            },
            mark: { type: 'line', strokeDash: [6, 4], color: REFERENCE_COLOR, strokeWidth: 1.5 },
            encoding: { x, y: { field: 'fraction_positive', type: 'quantitative' } },
          },
          {
            data: { values: filled },
            mark: { type: 'line', point: { size: 60, filled: true }, color: MODEL_COLOR, strokeWidth: 2.5 },
            encoding: {
              x,
              y: {
                field: 'fraction_positive',
                type: 'quantitative',
                title: 'Observed fraction positive',
                scale: unitAxis,
              },
            },
          },
        ],
      },
      {
        width: PLOT_WIDTH,
        height: 80,
        data: { values: bins.map((b) => ({ ...b })) },
        mark: { type: 'rect', color: '#8fb3d9', stroke: 'white', strokeWidth: 1 },
        encoding: {
          x: {
            field: 'lower',
            type: 'quantitative',
            title: 'Predicted probability of the positive class (bins)',
            scale: unitAxis,
          },
          x2: { field: 'upper' },
          y: { field: 'count', type: 'quantitative', title: 'Rows (count)', axis: { tickCount: 3 } },
          y2: { datum: 0 },
        },
      },
    ],
    spacing: 6,
  } as TopLevelSpec;
}

export function confusionSpec(
  c: ConfusionCounts,
  options: { threshold?: number; labels?: ClassLabels; title?: string } = {},
): TopLevelSpec {
  const labels = options.labels ?? DEFAULT_CLASS_LABELS;
  const total = c.tp + c.fp + c.tn + c.fn;
  const max = Math.max(c.tp, c.fp, c.tn, c.fn);
  const cell = (actual: string, predicted: string, name: string, count: number) => ({
    actual,
    predicted,
    count,
    label: `${name}\n${formatCount(count)}\n${total ? formatPercent(count / total) : '—'}`,
    ink: count > max * 0.55 ? 'white' : '#111',
  });
  const values = [
    cell(labels.negative, labels.negative, 'true negative', c.tn),
    cell(labels.negative, labels.positive, 'false positive', c.fp),
    cell(labels.positive, labels.negative, 'false negative', c.fn),
    cell(labels.positive, labels.positive, 'true positive', c.tp),
  ];
  const order = [labels.negative, labels.positive];
  const subtitle = [
    options.threshold === undefined ? null : `threshold ${formatNumber(options.threshold)}`,
    `${formatCount(total)} test rows`,
  ]
    .filter(Boolean)
    .join(', ');
  return {
    $schema: SCHEMA,
    title: title(options.title ?? 'Confusion matrix (test set)', subtitle),
    width: 420,
    height: 320,
    data: { values },
    encoding: {
      x: {
        field: 'predicted',
        type: 'nominal',
        sort: order,
        title: 'Predicted class',
        axis: { labelAngle: 0, orient: 'top', labelLimit: 200 },
      },
      y: { field: 'actual', type: 'nominal', sort: order, title: 'Actual class', axis: { labelLimit: 160 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues', domainMin: 0 }, legend: null },
        },
      },
      {
        mark: { type: 'text', lineBreak: '\n', fontSize: 16, lineHeight: 22 },
        encoding: {
          text: { field: 'label' },
          color: { condition: { test: "datum.ink === 'white'", value: 'white' }, value: '#111' },
        },
      },
    ],
  };
}

export function distributionSpec(
  feature: string,
  bins: readonly DistributionBin[],
  options: { title?: string } = {},
): TopLevelSpec {
  const shown = foldSmallBins(bins, MAX_DISTRIBUTION_BINS);
  const values = shown.flatMap((b) => [
    { bin: b.bin, split: 'train', share: b.train },
    { bin: b.bin, split: 'test', share: b.test },
  ]);
  return {
    $schema: SCHEMA,
    title: title(
      options.title ?? `${feature}: train vs test`,
      `total variation distance ${totalVariation(bins).toFixed(4)} (0 = same, 1 = disjoint)`,
    ),
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT - 40,
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: {
        field: 'bin',
        type: 'nominal',
        sort: null,
        axis: categoryAxis(
          shown.map((b) => b.bin),
          `${feature} (bin)`,
        ),
      },
      xOffset: { field: 'split', type: 'nominal', sort: ['train', 'test'] },
      y: { field: 'share', type: 'quantitative', title: 'Share of rows (%)', axis: { format: '.0%' } },
      color: {
        field: 'split',
        type: 'nominal',
        scale: { domain: ['train', 'test'], range: [SPLIT_COLORS.train, SPLIT_COLORS.test] },
        legend: { title: null, orient: 'top', direction: 'horizontal' },
      },
    },
  };
}

export function histogramSpec(
  bins: readonly HistogramBin[],
  options: { title: string; subtitle?: string; xTitle: string; yTitle?: string },
): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: title(options.title, options.subtitle),
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT - 40,
    data: { values: bins.map((b) => ({ ...b })) },
    mark: { type: 'bar', color: MODEL_COLOR },
    encoding: {
      x: {
        field: 'bin',
        type: 'nominal',
        sort: null,
        axis: categoryAxis(
          bins.map((b) => b.bin),
          options.xTitle,
        ),
      },
      y: { field: 'count', type: 'quantitative', title: options.yTitle ?? 'Rows (count)' },
    },
  };
}

/** `definition` says which way the error points; the evaluate stage writes predicted − actual. */
export function residualSpec(
  bins: readonly HistogramBin[],
  options: { unit?: string; title?: string; definition?: string } = {},
): TopLevelSpec {
  const rows = bins.reduce((s, b) => s + b.count, 0);
  return histogramSpec(bins, {
    title: options.title ?? 'Prediction error (test set)',
    subtitle: `${formatCount(rows)} rows; error = ${options.definition ?? 'predicted − actual'}`,
    xTitle: `Error (${options.unit ?? 'target units'})`,
  });
}

export interface LineChartOptions {
  title: string;
  subtitle?: string;
  xTitle: string;
  yTitle: string;
  xType?: 'quantitative' | 'temporal' | 'ordinal';
  /** Draw points on the line too (default: when there are at most 40 points per series). */
  points?: boolean;
  yDomain?: [number, number];
  /** x is a count (epochs, batches): whole-number ticks only. */
  xInteger?: boolean;
}

export function lineSpec(data: readonly LinePoint[], options: LineChartOptions): TopLevelSpec {
  const named = data.some((p) => p.series !== undefined);
  const values = data.map((p, order) => ({ x: p.x, y: p.y, series: p.series ?? '', order }));
  const perSeries = data.length / Math.max(1, new Set(values.map((v) => v.series)).size);
  return {
    $schema: SCHEMA,
    title: title(options.title, options.subtitle),
    width: PLOT_WIDTH,
    height: PLOT_HEIGHT,
    data: { values },
    mark: {
      type: 'line',
      strokeWidth: 2,
      point: options.points ?? perSeries <= 40,
      ...(named ? {} : { color: MODEL_COLOR }),
    },
    encoding: {
      x: {
        field: 'x',
        type: options.xType ?? 'quantitative',
        title: options.xTitle,
        ...(options.xType === 'ordinal' ? { sort: null, axis: { labelAngle: 0 } } : {}),
        ...(options.xInteger ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
      },
      y: {
        field: 'y',
        type: 'quantitative',
        title: options.yTitle,
        ...(options.yDomain ? { scale: { domain: options.yDomain } } : {}),
      },
      order: { field: 'order', type: 'quantitative' },
      ...(named
        ? { color: { field: 'series', type: 'nominal', sort: null, legend: { title: null, orient: 'bottom-right' } } }
        : {}),
    },
  };
}
