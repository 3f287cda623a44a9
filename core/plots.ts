/**
 * Charts rendered offline: Vega-Lite spec → Vega view (no DOM) → SVG → PNG with resvg and the
 * system's DejaVu fonts. Used by the training report and the batch drift report; no CDN, no
 * browser. Each chart also has a markdown fallback for places that cannot show images.
 */
import * as vl from 'vega-lite';
import * as vega from 'vega';
import { Resvg } from '@resvg/resvg-js';

export interface RenderedChart {
  svg: string;
  png: Uint8Array;
}

const FONT = 'DejaVu Sans';
const CONFIG = { font: FONT, view: { stroke: 'transparent' }, axis: { labelFontSize: 12, titleFontSize: 13 }, title: { fontSize: 15 }, legend: { labelFontSize: 12, titleFontSize: 12 } };

export async function renderChart(spec: Record<string, unknown>): Promise<RenderedChart> {
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG, ...spec } as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true, defaultFontFamily: FONT }, fitTo: { mode: 'zoom', value: 2 } }).render().asPng();
  return { svg, png: new Uint8Array(png) };
}

const size = { width: 420, height: 320 };
const diagonal = { data: { values: [{ a: 0, b: 0 }, { a: 1, b: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#999' }, encoding: { x: { field: 'a', type: 'quantitative' }, y: { field: 'b', type: 'quantitative' } } };

export function rocSpec(points: { fpr: number; tpr: number }[], auc: number | null) {
  return {
    ...size,
    title: `ROC curve (test)${auc === null ? '' : `, AUC ${auc.toFixed(3)}`}`,
    layer: [
      diagonal,
      { data: { values: points }, mark: { type: 'line', strokeWidth: 2.5 }, encoding: { x: { field: 'fpr', type: 'quantitative', title: 'False positive rate', scale: { domain: [0, 1] } }, y: { field: 'tpr', type: 'quantitative', title: 'True positive rate', scale: { domain: [0, 1] } } } },
    ],
  };
}

export function prSpec(points: { recall: number; precision: number }[], prevalence: number | null) {
  return {
    ...size,
    title: 'Precision–recall (test)',
    layer: [
      { data: { values: points }, mark: { type: 'line', strokeWidth: 2.5 }, encoding: { x: { field: 'recall', type: 'quantitative', title: 'Recall', scale: { domain: [0, 1] } }, y: { field: 'precision', type: 'quantitative', title: 'Precision', scale: { domain: [0, 1] } } } },
      ...(prevalence === null ? [] : [{ data: { values: [{ p: prevalence }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { y: { field: 'p', type: 'quantitative' } } }]),
    ],
  };
}

export function calibrationSpec(bins: { mean_predicted: number; fraction_positive: number; count: number }[]) {
  return {
    ...size,
    title: 'Calibration (test)',
    layer: [
      diagonal,
      {
        data: { values: bins },
        mark: { type: 'line', point: true, strokeWidth: 2.5 },
        encoding: { x: { field: 'mean_predicted', type: 'quantitative', title: 'Mean predicted probability', scale: { domain: [0, 1] } }, y: { field: 'fraction_positive', type: 'quantitative', title: 'Observed share of late flights', scale: { domain: [0, 1] } }, tooltip: [{ field: 'count' }] },
      },
    ],
  };
}

export function confusionSpec(c: { tp: number; fp: number; tn: number; fn: number }, threshold: number | null) {
  const values = [
    { actual: 'positive', predicted: 'positive', count: c.tp },
    { actual: 'positive', predicted: 'negative', count: c.fn },
    { actual: 'negative', predicted: 'positive', count: c.fp },
    { actual: 'negative', predicted: 'negative', count: c.tn },
  ];
  const axis = { type: 'nominal', sort: ['positive', 'negative'] };
  return {
    width: 300,
    height: 300,
    title: `Confusion matrix (test${threshold === null ? '' : `, threshold ${threshold.toFixed(3)}`})`,
    data: { values },
    encoding: { x: { field: 'predicted', ...axis, title: 'Predicted', axis: { labelAngle: 0 } }, y: { field: 'actual', ...axis, title: 'Actual' } },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', title: 'Flights', scale: { scheme: 'blues' } } } },
      { mark: { type: 'text', fontSize: 16, fontWeight: 'bold' }, encoding: { text: { field: 'count', type: 'quantitative', format: ',' }, color: { condition: { test: `datum.count > ${Math.max(c.tp, c.fp, c.tn, c.fn) / 2}`, value: 'white' }, value: 'black' } } },
    ],
  };
}

export function distributionSpec(feature: string, bins: { bin: string; train: number; test: number }[]) {
  const values = bins.flatMap((b) => [
    { bin: b.bin, split: 'train', share: b.train },
    { bin: b.bin, split: 'test', share: b.test },
  ]);
  return {
    width: Math.max(300, Math.min(720, bins.length * 28)),
    height: 220,
    title: `${feature}: train vs test`,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'bin', type: 'nominal', sort: null, title: feature, axis: { labelAngle: -45, labelLimit: 90 } },
      xOffset: { field: 'split', sort: ['train', 'test'] },
      y: { field: 'share', type: 'quantitative', title: 'Share of rows', axis: { format: '%' } },
      color: { field: 'split', type: 'nominal', sort: ['train', 'test'], title: 'Split' },
    },
  };
}

export function residualSpec(bins: { bin: string; count: number }[]) {
  return {
    width: 520,
    height: 260,
    title: 'Prediction error (test): predicted − actual minutes',
    data: { values: bins },
    mark: 'bar',
    encoding: { x: { field: 'bin', type: 'nominal', sort: null, title: 'Error (minutes)', axis: { labelAngle: -45 } }, y: { field: 'count', type: 'quantitative', title: 'Flights' } },
  };
}

/** Markdown table fallback: the given rows, subsampled to at most `max`. */
export function markdownTable(rows: Record<string, unknown>[], max = 12): string {
  if (!rows.length) return '_no data_';
  const keep = rows.length <= max ? rows : Array.from({ length: max }, (_, i) => rows[Math.round((i * (rows.length - 1)) / (max - 1))]);
  const cols = Object.keys(keep[0]);
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(4)) : String(v ?? ''));
  return [`| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`, ...keep.map((r) => `| ${cols.map((c) => cell(r[c])).join(' | ')} |`)].join('\n');
}
