/**
 * Charts for reports, rendered offline to SVG and PNG (2× scale), each with a Markdown table that
 * says the same thing in text. `rocChart(points)` → `{ svg, png, table, … }`.
 */
import { renderVegaLite, type RenderedChart, type RenderOptions } from './render.ts';
import {
  calibrationSpec,
  confusionSpec,
  distributionSpec,
  lineSpec,
  prSpec,
  residualSpec,
  rocSpec,
  type LineChartOptions,
} from './specs.ts';
import {
  calibrationTable,
  confusionTable,
  distributionTable,
  histogramTable,
  lineTable,
  prTable,
  rocTable,
} from './tables.ts';
import type {
  CalibrationBin,
  ClassLabels,
  ConfusionCounts,
  DistributionBin,
  HistogramBin,
  LinePoint,
  PrPoint,
  RocPoint,
} from './data.ts';

export interface Chart extends RenderedChart {
  /** The text fallback: a Markdown table of what the chart shows. */
  table: string;
}

export async function rocChart(
  points: readonly RocPoint[],
  options: { auc?: number; title?: string } & RenderOptions = {},
): Promise<Chart> {
  return withTable(await renderVegaLite(rocSpec(points, options), options), rocTable(points));
}

export async function prChart(
  points: readonly PrPoint[],
  options: { averagePrecision?: number; positiveRate?: number; title?: string } & RenderOptions = {},
): Promise<Chart> {
  return withTable(await renderVegaLite(prSpec(points, options), options), prTable(points));
}

export async function calibrationChart(
  bins: readonly CalibrationBin[],
  options: { title?: string } & RenderOptions = {},
): Promise<Chart> {
  return withTable(await renderVegaLite(calibrationSpec(bins, options), options), calibrationTable(bins));
}

export async function confusionMatrixChart(
  counts: ConfusionCounts,
  options: { threshold?: number; labels?: ClassLabels; title?: string } & RenderOptions = {},
): Promise<Chart> {
  return withTable(
    await renderVegaLite(confusionSpec(counts, options), options),
    confusionTable(counts, options.labels),
  );
}

export async function distributionChart(
  feature: string,
  bins: readonly DistributionBin[],
  options: { title?: string } & RenderOptions = {},
): Promise<Chart> {
  return withTable(await renderVegaLite(distributionSpec(feature, bins, options), options), distributionTable(bins));
}

/** Regression errors (by default predicted − actual), already binned by the evaluate stage. */
export async function residualHistogram(
  bins: readonly HistogramBin[],
  options: { unit?: string; title?: string; definition?: string } & RenderOptions = {},
): Promise<Chart> {
  return withTable(await renderVegaLite(residualSpec(bins, options), options), histogramTable(bins));
}

export async function lineChart(
  points: readonly LinePoint[],
  options: LineChartOptions & RenderOptions,
): Promise<Chart> {
  return withTable(
    await renderVegaLite(lineSpec(points, options), options),
    lineTable(points, { x: options.xTitle, y: options.yTitle }),
  );
}

function withTable(rendered: RenderedChart, table: string): Chart {
  return { ...rendered, table };
}

export { renderVegaLite, chartTheme, type RenderedChart, type RenderOptions } from './render.ts';
export { chartFonts, CHART_FONT_FAMILY, FONT_PACKAGE_HINT, type ChartFonts } from './fonts.ts';
export * from './data.ts';
export * from './specs.ts';
export * from './tables.ts';
export { pngDimensions } from './png.ts';
export * from './markdown.ts';
export {
  multiclassConfusionChart,
  multiclassConfusionSpec,
  multiclassConfusionTable,
  type ClassConfusion,
} from './multiclass.ts';
