/**
 * The report's test-set section for a multi-class model (metrics/evaluate.json has `classes`):
 * the confusion-matrix chart, per-class precision/recall/F1, and the temperature calibration.
 */
import { formatCount, table } from '../../core/charts/markdown.ts';
import { multiclassConfusionChart, multiclassConfusionTable, type ClassConfusion } from '../../core/charts/index.ts';
import { formatMetric } from './headline.ts';
import type { Evaluation } from './inputs.ts';
import type { ReportCharts } from './assets.ts';

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const num = (x: unknown): number | null => (typeof x === 'number' ? x : null);

export function isMulticlassEvaluation(ev: Evaluation): boolean {
  return isRecord((ev as Record<string, unknown>).classes) && isRecord(ev.test.confusion_matrix);
}

export async function multiclassTestSection(ev: Evaluation, charts: ReportCharts): Promise<string> {
  const out = ['## Test set', '', '### Confusion matrix', ''];
  const matrix = ev.test.confusion_matrix as ClassConfusion;
  out.push(
    await charts.add(
      'confusion',
      'Confusion matrix',
      () => multiclassConfusionChart(matrix),
      multiclassConfusionTable(matrix),
    ),
    '',
  );
  const perClass = isRecord(ev.test.per_class) ? ev.test.per_class : {};
  out.push('### Per class', '');
  out.push(
    table(
      ['class', 'precision', 'recall', 'F1', 'test rows'],
      Object.entries(perClass).map(([name, q]) => {
        const r = isRecord(q) ? q : {};
        return [
          name,
          formatMetric(num(r.precision)),
          formatMetric(num(r.recall)),
          formatMetric(num(r.f1)),
          formatCount(num(r.support) ?? 0),
        ];
      }),
      ['left', 'right', 'right', 'right', 'right'],
    ),
    '',
  );
  const c = ev.calibration;
  if (c)
    out.push(
      '### Calibration',
      '',
      `Served probabilities are ${c.method === 'per_member' ? "the mean of the blend members' temperature-scaled probabilities (each fitted on validation)" : 'temperature-scaled (fitted on validation)'}. Top-label expected calibration error ${formatMetric(c.ece)} (before: ${formatMetric(c.ece_uncalibrated)}), log loss ${formatMetric(c.log_loss)} (before: ${formatMetric(c.log_loss_uncalibrated)}; class-prior baseline ${formatMetric(c.log_loss_baseline)}).`,
    );
  return out.join('\n');
}
