/**
 * The multi-class confusion matrix: a k × k heat map (actual down, predicted across, classes in
 * the model's order) with each cell's count and its share of the actual class (the row's recall),
 * plus the same as a Markdown table.
 */
import type { TopLevelSpec } from 'vega-lite';
import { formatCount, formatPercent, table } from './markdown.ts';
import { renderVegaLite, type RenderOptions } from './render.ts';

/** counts[actual][predicted], keyed by class name (metrics/evaluate.json `test.confusion_matrix`). */
export type ClassConfusion = Record<string, Record<string, number>>;

export function multiclassConfusionSpec(m: ClassConfusion, options: { title?: string } = {}): TopLevelSpec {
  const classes = Object.keys(m);
  const total = classes.reduce((s, a) => s + classes.reduce((t, p) => t + (m[a][p] ?? 0), 0), 0);
  const max = Math.max(1, ...classes.flatMap((a) => classes.map((p) => m[a][p] ?? 0)));
  const values = classes.flatMap((actual) => {
    const row = classes.reduce((s, p) => s + (m[actual][p] ?? 0), 0);
    return classes.map((predicted) => {
      const count = m[actual][predicted] ?? 0;
      return {
        actual,
        predicted,
        count,
        label: `${formatCount(count)}\n${row ? formatPercent(count / row) : '—'}`,
        ink: count > max * 0.55 ? 'white' : '#111',
      };
    });
  });
  const size = Math.min(520, Math.max(240, 80 * classes.length));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: options.title ?? 'Confusion matrix (test set)',
      subtitle: `${formatCount(total)} test rows; each cell: count and share of its actual class`,
    },
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: {
        field: 'predicted',
        type: 'nominal',
        sort: classes,
        title: 'Predicted class',
        axis: { labelAngle: 0, orient: 'top', labelLimit: 120 },
      },
      y: { field: 'actual', type: 'nominal', sort: classes, title: 'Actual class', axis: { labelLimit: 120 } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues', domainMin: 0 }, legend: null },
        },
      },
      {
        mark: { type: 'text', lineBreak: '\n', fontSize: 13, lineHeight: 17 },
        encoding: {
          text: { field: 'label' },
          color: { condition: { test: "datum.ink === 'white'", value: 'white' }, value: '#111' },
        },
      },
    ],
  };
}

export function multiclassConfusionTable(m: ClassConfusion): string {
  const classes = Object.keys(m);
  return table(
    ['actual \\ predicted', ...classes],
    classes.map((a) => [a, ...classes.map((p) => formatCount(m[a][p] ?? 0))]),
  );
}

export async function multiclassConfusionChart(m: ClassConfusion, options: { title?: string } & RenderOptions = {}) {
  return {
    ...(await renderVegaLite(multiclassConfusionSpec(m, options), options)),
    table: multiclassConfusionTable(m),
  };
}
