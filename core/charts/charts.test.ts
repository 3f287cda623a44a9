import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import {
  calibrationChart,
  chartFonts,
  confusionMatrixChart,
  confusionTable,
  distributionChart,
  distributionTable,
  foldSmallBins,
  lineChart,
  pngDimensions,
  prChart,
  renderVegaLite,
  residualHistogram,
  rocChart,
  rocSpec,
  rocTable,
  subsample,
  totalVariation,
  MAX_CURVE_POINTS,
  type Chart,
  type RocPoint,
} from './index.ts';
import { readFontMetrics, resvgFontOptions } from './fonts.ts';

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]* width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg);
  assert.ok(m, 'svg has width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

function roc(n: number): RocPoint[] {
  return Array.from({ length: n }, (_, i) => ({
    fpr: i / (n - 1),
    tpr: Math.sqrt(i / (n - 1)),
    threshold: i === 0 ? null : 1 - i / (n - 1),
  }));
}

/** A chart is a real 2× PNG of a ~600×400 SVG with its title in it, compiled without warnings. */
function assertChart(chart: Chart, title: string) {
  const svg = svgSize(chart.svg);
  assert.ok(svg.width >= 450 && svg.width <= 700, `svg width ${svg.width}`);
  assert.ok(svg.height >= 300 && svg.height <= 520, `svg height ${svg.height}`);
  assert.deepEqual(pngDimensions(chart.png), { width: Math.round(svg.width * 2), height: Math.round(svg.height * 2) });
  assert.equal(chart.width, Math.round(svg.width * 2));
  assert.ok(chart.png.length > 10_000, `png has ${chart.png.length} bytes`);
  assert.ok(chart.svg.includes(title), `svg shows the title "${title}"`);
  assert.ok(!/https?:\/\/(?!www\.w3\.org)/.test(chart.svg), 'svg references nothing online');
  assert.deepEqual(chart.warnings, []);
  assert.match(chart.table, /^\| .+ \|\n\| (---:?|:---:) /);
}

test('every chart kind renders to SVG and a 2× PNG with title, axes and a text table', async () => {
  const cases: [string, () => Promise<Chart>, string[]][] = [
    [
      'ROC curve (test set)',
      () => rocChart(roc(50), { auc: 0.75 }),
      ['False positive rate', 'True positive rate', 'AUC 0.7500'],
    ],
    [
      'Precision–recall curve (test set)',
      () =>
        prChart(
          roc(50).map((p) => ({ recall: p.tpr, precision: 1 - p.fpr / 2, threshold: p.threshold })),
          { positiveRate: 0.2 },
        ),
      ['Recall', 'Precision', 'positive rate 20.0%'],
    ],
    [
      'Calibration (test set)',
      () =>
        calibrationChart(
          [0, 1, 2].map((i) => ({
            bin: i,
            lower: i / 3,
            upper: (i + 1) / 3,
            mean_predicted: i / 3 + 0.1,
            fraction_positive: i / 3,
            count: 10 + i,
          })),
        ),
      ['Observed fraction positive', 'Rows (count)'],
    ],
    [
      'Confusion matrix (test set)',
      () => confusionMatrixChart({ tp: 5, fp: 3, tn: 90, fn: 2 }, { threshold: 0.5 }),
      ['Actual class', 'Predicted class', 'true positive', 'threshold 0.5000'],
    ],
    [
      'distance: train vs test',
      () =>
        distributionChart('distance', [
          { bin: '0–100', train: 0.6, test: 0.5 },
          { bin: '100+', train: 0.4, test: 0.5 },
        ]),
      ['Share of rows (%)', 'distance (bin)', 'total variation distance 0.1000'],
    ],
    [
      'Prediction error (test set)',
      () =>
        residualHistogram(
          [
            { bin: '-10–0', count: 5 },
            { bin: '0–10', count: 7 },
          ],
          { unit: 'minutes' },
        ),
      ['Error (minutes)', 'Rows (count)'],
    ],
    [
      'Training loss',
      () =>
        lineChart(
          [1, 2, 3].map((x) => ({ x, y: 1 / x, series: 'train' })),
          { title: 'Training loss', xTitle: 'Epoch (count)', yTitle: 'Log loss (nats)', xInteger: true },
        ),
      ['Epoch (count)', 'Log loss (nats)'],
    ],
  ];
  for (const [title, render, texts] of cases) {
    const chart = await render();
    assertChart(chart, title);
    for (const t of texts) assert.ok(chart.svg.includes(t), `${title}: svg contains "${t}"`);
  }
});

test('chart text is really drawn in the PNG (a font was found and loaded)', async () => {
  const fonts = chartFonts();
  assert.equal(fonts.fallback, false, 'DejaVu Sans is installed (Debian: fonts-dejavu-core)');
  const chart = await renderVegaLite({
    title: 'Readable title',
    width: 300,
    height: 100,
    data: { values: [] },
    mark: 'point',
  });
  const withText = new Resvg(chart.svg, { font: resvgFontOptions(fonts), background: 'white' }).render().pixels;
  const withoutText = new Resvg(chart.svg.replace(/<text[\s\S]*?<\/text>/g, ''), {
    font: resvgFontOptions(fonts),
    background: 'white',
  }).render().pixels;
  let differing = 0;
  for (let i = 0; i < withText.length; i += 4) if (withText[i] !== withoutText[i]) differing++;
  assert.ok(differing > 500, `text changes ${differing} pixels`);
});

test('long curves are subsampled for drawing, keeping the first and last point', async () => {
  const points = roc(5000);
  const spec = rocSpec(points) as { layer: { data: { values: { fpr: number }[] } }[] };
  const drawn = spec.layer[1].data.values;
  assert.equal(drawn.length, MAX_CURVE_POINTS);
  assert.equal(drawn[0].fpr, 0);
  assert.equal(drawn[drawn.length - 1].fpr, 1);
  const chart = await rocChart(points);
  // What keeps the render cheap, counted rather than timed: the SVG's longest path (the curve)
  // has the subsampled points as vertices, not 5,000.
  const vertices = [...chart.svg.matchAll(/<path[^>]* d="([^"]*)"/g)].map((m) => (m[1].match(/[ML]/g) ?? []).length);
  assert.equal(Math.max(...vertices), MAX_CURVE_POINTS);
  assert.match(chart.svg, /5,000 points \(one per threshold\), 300 drawn/);
  assert.equal(chart.table.split('\n').filter((l) => /^\| \d|^\| —/.test(l)).length, 10);
  assert.match(chart.table, /10 of 5,000 points, evenly spaced, first and last kept\./);
});

test('same input gives byte-identical SVG and PNG', async () => {
  const a = await confusionMatrixChart({ tp: 1, fp: 2, tn: 3, fn: 4 });
  await rocChart(roc(20)); // other renders in between must not shift ids
  const b = await confusionMatrixChart({ tp: 1, fp: 2, tn: 3, fn: 4 });
  assert.equal(a.svg, b.svg);
  assert.deepEqual(a.png, b.png);
});

test('charts refuse to load data from anywhere: offline only', async () => {
  await assert.rejects(
    renderVegaLite({
      data: { url: 'https://example.com/data.json' },
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' } },
    }),
    /charts render offline and take inline data only.*https:\/\/example\.com\/data\.json/,
  );
});

test('pngDimensions reads IHDR and refuses non-PNG bytes', () => {
  assert.equal(pngDimensions(new TextEncoder().encode('GIF89a not a png at all....')), null);
});

test('subsample is even, deterministic and keeps both ends', () => {
  const xs = Array.from({ length: 101 }, (_, i) => i);
  assert.deepEqual(subsample(xs, 5), [0, 25, 50, 75, 100]);
  assert.deepEqual(subsample(xs.slice(0, 3), 10), [0, 1, 2]);
  assert.deepEqual(subsample(xs, 1), [0]);
});

test('text fallbacks: confusion counts with shares, ROC sample, distribution differences', () => {
  assert.equal(
    confusionTable({ tp: 10, fp: 5, tn: 80, fn: 5 }, { negative: 'on time', positive: 'late' }),
    [
      '| actual ↓ predicted → | on time | late | total |',
      '| --- | ---: | ---: | ---: |',
      '| on time | TN 80 (80.0%) | FP 5 (5.0%) | 85 |',
      '| late | FN 5 (5.0%) | TP 10 (10.0%) | 15 |',
      '| total | 85 | 15 | 100 |',
    ].join('\n'),
  );
  const rocRows = rocTable(roc(3)).split('\n');
  assert.deepEqual(rocRows.slice(2), [
    '| — | 0.0000 | 0.0000 |',
    '| 0.5000 | 0.5000 | 0.7071 |',
    '| 0.0000 | 1.0000 | 1.0000 |',
  ]);
  assert.match(
    distributionTable([
      { bin: 'a|b', train: 0.25, test: 0.3 },
      { bin: 'c', train: 0.75, test: 0.7 },
    ]),
    /\| a\\\|b \| 25\.0% \| 30\.0% \| \+5\.0 pp \|\n\| c \| 75\.0% \| 70\.0% \| -5\.0 pp \|/,
  );
});

test('distribution helpers: total variation and folding of many small categories', () => {
  assert.equal(
    totalVariation([
      { bin: 'a', train: 1, test: 0 },
      { bin: 'b', train: 0, test: 1 },
    ]),
    1,
  );
  const many = Array.from({ length: 40 }, (_, i) => ({ bin: `c${i}`, train: (40 - i) / 820, test: (40 - i) / 820 }));
  const folded = foldSmallBins(many, 25);
  assert.equal(folded.length, 25);
  assert.equal(folded[24].bin, '(16 other)');
  assert.ok(Math.abs(folded.reduce((s, b) => s + b.train, 0) - 1) < 1e-9);
});

test('font metrics come from the DejaVu Sans file (digits are 0.636 em wide)', () => {
  const fonts = chartFonts();
  const m = readFontMetrics(fonts.regular!);
  assert.ok(Math.abs(m.width('0', 10) - 6.36) < 0.01);
  assert.ok(m.width('M', 12) > m.width('i', 12));
  assert.equal(m.width('ab', 12), m.width('a', 12) + m.width('b', 12));
});
