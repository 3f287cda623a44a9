/**
 * The charts of the comment, most important first: each is the report's PNG when the PNGs can be
 * reached by URL (a commit the workflow pushed, or REPORT_IMAGE_BASE_URL), otherwise a Mermaid
 * chart GitHub draws from text; the numbers stay underneath in a folded table either way.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  calibrationTable,
  confusionTable,
  distributionTable,
  foldSmallBins,
  histogramTable,
  prTable,
  rocTable,
  totalVariation,
  type CalibrationBin,
  type ConfusionCounts,
  type DistributionBin,
  type HistogramBin,
  type PrPoint,
  type RocPoint,
} from '../../../core/charts/index.ts';
import { details } from '../../../core/charts/markdown.ts';
import { precisionAt, rocAt, unitGrid } from './curves.ts';
import { xychartBlock, type XyChartSpec } from './xychart.ts';
import {
  confusionOf,
  metricOf,
  readMetrics,
  type DataDriftFile,
  type MetricsFileKind,
} from '../../../core/schemas/metrics-files.ts';

export interface ChartData {
  roc: RocPoint[] | null;
  pr: PrPoint[] | null;
  calibration: CalibrationBin[] | null;
  residuals: HistogramBin[] | null;
  confusion: ConfusionCounts | null;
  rocAuc: number | null;
  prAuc: number | null;
  features: { name: string; kind: string; bins: DistributionBin[] }[];
  /** PNG files present in `<metrics>/report/`. */
  pngs: Set<string>;
}

/** `report/<file>.png` (relative to the metrics directory) → a URL a reader's browser can load; null: no URL. */
export type ImageUrl = ((path: string) => string) | null;

export interface ChartSection {
  id: string;
  title: string;
  markdown: string;
}

/** At most this many feature charts (largest train/test shift first); the full report has them all. */
export const MAX_FEATURE_CHARTS = 8;
const GRID = unitGrid(20);
const PERCENT_AXIS = [0, 100] as const;

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const nonEmpty = <T>(xs: T[] | null): T[] | null => (xs?.length ? xs : null);

/** Reads what the evaluate stage wrote, each file through its schema (core/schemas/metrics-files.ts); a missing file is left out, a malformed one fails naming the file and field. */
export async function loadChartData(metricsDir: string): Promise<ChartData> {
  const read = <K extends MetricsFileKind>(kind: K) => readMetrics(kind, { dir: metricsDir });
  const [ev, dist, roc, pr, calibration, residuals] = await Promise.all([
    read('evaluate'),
    read('distributions'),
    read('roc'),
    read('pr'),
    read('calibration'),
    read('residuals'),
  ]);
  const test = ev?.test ?? {};
  const features = Object.entries(dist ?? {}).flatMap(([name, f]) =>
    f.bins.length ? [{ name, kind: f.kind, bins: f.bins }] : [],
  );
  const reportDir = join(metricsDir, 'report');
  const pngs = new Set<string>();
  for (const name of [
    'roc',
    'pr',
    'calibration',
    'confusion',
    'residuals',
    ...features.map((f) => featureFile(f.name)),
  ]) {
    if (existsSync(join(reportDir, `${name}.png`))) pngs.add(`${name}.png`);
  }
  return {
    roc: nonEmpty(roc),
    pr: nonEmpty(pr),
    calibration: nonEmpty(calibration),
    residuals: nonEmpty(residuals),
    confusion: confusionOf(test),
    rocAuc: metricOf(test, 'roc_auc'),
    prAuc: metricOf(test, 'pr_auc'),
    features,
    pngs,
  };
}

/** The report stage's file name for a feature chart (training/report/assets.ts). */
export function featureFile(feature: string): string {
  return `feature-${feature.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'chart'}`;
}

function section(
  id: string,
  title: string,
  picture: string,
  table: string | null,
  summary = `${title} as a table`,
): ChartSection {
  const parts = [`#### ${title}`, '', picture];
  if (table) parts.push('', details(summary, table));
  return { id, title, markdown: parts.join('\n') };
}

/** The PNG if it exists and has a URL, else the Mermaid chart (null: no Mermaid form, the table is shown). */
function picture(
  data: ChartData,
  images: ImageUrl,
  file: string,
  alt: string,
  mermaid: () => XyChartSpec | null,
): string | null {
  if (images && data.pngs.has(file)) return `![${alt.replace(/[[\]]/g, '')}](${images(`report/${file}`)})`;
  const spec = mermaid();
  return spec ? xychartBlock(spec) : null;
}

const pct = (xs: readonly number[]) => xs.map((x) => x * 100);
const fixed = (x: number | null, label: string) => (x === null ? '' : ` (${label} ${x.toFixed(4)})`);

function rocSection(data: ChartData, images: ImageUrl, roc: RocPoint[]): ChartSection {
  const title = `ROC curve${fixed(data.rocAuc, 'AUC')}`;
  const pic = picture(data, images, 'roc.png', 'ROC curve', () => ({
    title: `${title}: model vs chance`,
    x: { title: 'false positive rate (%)', range: PERCENT_AXIS },
    y: { title: 'true positive rate', range: [0, 1] },
    series: [
      { kind: 'line', name: 'model', values: rocAt(roc, GRID) },
      { kind: 'line', name: 'chance', values: GRID },
    ],
  }));
  return section('roc', title, pic!, rocTable(roc), 'ROC curve as a table');
}

function prSection(data: ChartData, images: ImageUrl, pr: PrPoint[]): ChartSection {
  const title = `Precision–recall curve${fixed(data.prAuc, 'average precision')}`;
  const c = data.confusion;
  const total = c ? c.tp + c.fp + c.tn + c.fn : 0;
  const prevalence = c && total ? (c.tp + c.fn) / total : null;
  const pic = picture(data, images, 'pr.png', 'Precision-recall curve', () => ({
    title: prevalence === null ? title : `${title}: model vs no skill (positive rate)`,
    x: { title: 'recall (%)', range: PERCENT_AXIS },
    y: { title: 'precision', range: [0, 1] },
    series: [
      { kind: 'line', name: 'model', values: precisionAt(pr, GRID) },
      ...(prevalence === null ? [] : [{ kind: 'line' as const, name: 'no skill', values: GRID.map(() => prevalence) }]),
    ],
  }));
  return section('pr', title, pic!, prTable(pr), 'Precision-recall curve as a table');
}

function calibrationSection(data: ChartData, images: ImageUrl, bins: CalibrationBin[]): ChartSection {
  const filled = bins.filter((b) => b.count > 0 && finite(b.mean_predicted) && finite(b.fraction_positive));
  const pic = picture(data, images, 'calibration.png', 'Calibration', () =>
    filled.length
      ? {
          title: 'Calibration: observed positive rate (bars) vs mean predicted probability (line)',
          x: {
            title: 'predicted probability',
            categories: filled.map((b) => `${b.lower.toFixed(2)}–${b.upper.toFixed(2)}`),
          },
          y: { title: 'rate', range: [0, 1] },
          series: [
            { kind: 'bar', name: 'observed positive rate', values: filled.map((b) => b.fraction_positive!) },
            { kind: 'line', name: 'mean predicted', values: filled.map((b) => b.mean_predicted!) },
          ],
        }
      : null,
  );
  return section(
    'calibration',
    'Calibration (reliability)',
    pic ?? '_No calibration bin has rows._',
    calibrationTable(bins),
    'Calibration as a table',
  );
}

function driftSection(drift: DataDriftFile): ChartSection | null {
  const feats = Object.entries(drift.features ?? {}).filter(([, f]) => finite(f.score) && finite(f.threshold));
  if (drift.status && drift.status !== 'ok') return null;
  if (!feats.length) return null;
  const against = drift.production_version ? `production v${drift.production_version}` : 'production';
  const top = Math.max(1, ...feats.flatMap(([, f]) => [f.score!, f.threshold]));
  const block = xychartBlock({
    title: `Drift vs ${against}: score (bars) vs threshold (line)`,
    x: { title: 'feature', categories: feats.map(([name]) => name) },
    y: { title: 'drift score', range: [0, Math.ceil(top * 10) / 10] },
    series: [
      { kind: 'bar', name: 'score', values: feats.map(([, f]) => f.score!) },
      { kind: 'line', name: 'threshold', values: feats.map(([, f]) => f.threshold) },
    ],
  });
  return section('drift', `Drift score per feature vs ${against}`, block, null);
}

function featureSections(data: ChartData, images: ImageUrl): ChartSection[] {
  return data.features
    .map((f) => ({ ...f, tv: totalVariation(f.bins) }))
    .sort((a, b) => b.tv - a.tv || a.name.localeCompare(b.name))
    .slice(0, MAX_FEATURE_CHARTS)
    .map((f) => {
      const bins = foldSmallBins(f.bins, 16);
      const title = `${f.name}: train vs test (total variation ${f.tv.toFixed(4)})`;
      const pic = picture(data, images, `${featureFile(f.name)}.png`, `${f.name}: train vs test`, () => ({
        title: `${f.name}: train (bars) vs test (line)`,
        x: { title: f.kind || 'bin', categories: bins.map((b) => b.bin) },
        y: { title: 'share of rows (%)' },
        series: [
          { kind: 'bar', name: 'train', values: pct(bins.map((b) => b.train)) },
          { kind: 'line', name: 'test', values: pct(bins.map((b) => b.test)) },
        ],
      }));
      return section(`feature:${f.name}`, title, pic!, distributionTable(f.bins), `${f.name} bins as a table`);
    });
}

/** Every chart the data allows, most important first (the comment drops from the end when it must). */
export function chartSections(data: ChartData, drift: DataDriftFile | null, images: ImageUrl): ChartSection[] {
  const out: ChartSection[] = [];
  if (data.roc) out.push(rocSection(data, images, data.roc));
  if (data.calibration) out.push(calibrationSection(data, images, data.calibration));
  if (data.pr) out.push(prSection(data, images, data.pr));
  if (data.residuals) {
    const bins = data.residuals;
    const pic = picture(data, images, 'residuals.png', 'Prediction error histogram', () => ({
      title: 'Prediction error histogram',
      x: { title: 'error', categories: bins.map((b) => b.bin) },
      y: { title: 'rows' },
      series: [{ kind: 'bar', name: 'rows', values: bins.map((b) => b.count) }],
    }));
    out.push(section('residuals', 'Prediction error histogram', pic!, histogramTable(bins)));
  }
  const d = drift && driftSection(drift);
  if (d) out.push(d);
  if (data.confusion) {
    const pic =
      images && data.pngs.has('confusion.png') ? `![Confusion matrix](${images('report/confusion.png')})` : null;
    out.push(
      pic
        ? section('confusion', 'Confusion matrix', pic, confusionTable(data.confusion))
        : {
            id: 'confusion',
            title: 'Confusion matrix',
            markdown: `#### Confusion matrix\n\n${confusionTable(data.confusion)}`,
          },
    );
  }
  out.push(...featureSections(data, images));
  return out;
}
