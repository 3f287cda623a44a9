/** Report sections about the model: verdict, promotion gates, test-set charts, edge cases. */
import { details, escapeCell, formatCount, raw, table } from '../../core/charts/markdown.ts';
import {
  calibrationChart,
  calibrationTable,
  confusionMatrixChart,
  confusionTable,
  histogramTable,
  prChart,
  prTable,
  residualHistogram,
  rocChart,
  rocTable,
} from '../../core/charts/index.ts';
import { formatMetric } from './headline.ts';
import { confusionOf, metricOf, type Evaluation, type Input, type Registration, type ReportInputs } from './inputs.ts';
import type { ReportCharts } from './assets.ts';
import { isMulticlassEvaluation, multiclassTestSection } from './multiclass-section.ts';

export const REPORT_MARKER = '<!-- gitops-ml-report -->';

const VERDICT = {
  promoted: { icon: '✅', text: 'promoted to production' },
  staging: { icon: '🟡', text: 'kept in staging (production unchanged)' },
  rejected: { icon: '❌', text: 'rejected' },
  candidate: { icon: '⚪', text: 'registered as a candidate (no stage assigned)' },
} as const;

const unavailable = (why: string) => `_Not available: ${why}._`;

export function titleSection(ev: Evaluation, register: Input<Registration>): string {
  const name = escapeCell(ev.model_name);
  const lines: string[] = [];
  if (register.ok) {
    const v = VERDICT[register.value.decision];
    lines.push(
      `# ${v.icon} ${name} v${register.value.version}: ${v.text}`,
      '',
      `> ${escapeCell(register.value.reason)}`,
    );
  } else {
    lines.push(
      `# ⚪ ${name}${ev.version_hint ? ` ${escapeCell(ev.version_hint)}` : ''}: not registered`,
      '',
      `> ${register.why}`,
    );
  }
  const context = [
    ev.candidate ? `Candidate \`${ev.candidate.replace(/`/g, "'")}\`` : null,
    ev.task,
    `${formatCount(ev.rows_test)} test rows`,
    typeof ev.threshold === 'number' ? `decision threshold ${formatMetric(ev.threshold)}` : null,
    ev.baseline_kind ? `baseline: ${escapeCell(ev.baseline_kind)}` : null,
  ].filter((s): s is string => s !== null);
  lines.push('', context.join(' · ') + '.');
  return lines.join('\n');
}

export function gatesSection(register: Input<Registration>): string {
  const out = ['## Promotion gates', ''];
  if (!register.ok) return [...out, unavailable(register.why)].join('\n');
  const gates = Object.entries(register.value.gates);
  if (gates.length === 0) return [...out, '_The register stage recorded no gates._'].join('\n');
  const passed = gates.filter(([, g]) => g.passed).length;
  out.push(`${passed} of ${gates.length} gates passed.`, '');
  out.push(
    table(
      ['gate', 'result', 'detail'],
      gates.map(([name, g]) => [name, raw(g.passed ? '✅ pass' : '❌ fail'), g.detail]),
    ),
  );
  return out.join('\n');
}

/** A plot input with points, or the sentence that says why there are none. */
function points<T>(input: Input<T[]>): { ok: true; value: T[] } | { ok: false; why: string } {
  if (!input.ok) return input;
  if (input.value.length === 0) return { ok: false, why: `\`${input.path}\` has no points` };
  return { ok: true, value: input.value };
}

export async function testChartsSection(inputs: ReportInputs, charts: ReportCharts): Promise<string> {
  const ev = inputs.evaluate;
  if (isMulticlassEvaluation(ev)) return multiclassTestSection(ev, charts);
  const out = ['## Test set', ''];
  if (ev.task === 'regression') {
    const residuals = points(inputs.residuals);
    out.push('### Prediction error', '');
    if (!residuals.ok) out.push(unavailable(residuals.why));
    else {
      const unit = ev.target_unit ?? 'target units';
      out.push(
        await charts.add(
          'residuals',
          'Prediction error histogram',
          () => residualHistogram(residuals.value, { unit }),
          histogramTable(residuals.value),
        ),
      );
    }
    return out.join('\n');
  }

  const confusion = confusionOf(ev.test);
  const total = confusion ? confusion.tp + confusion.fp + confusion.tn + confusion.fn : 0;
  const positiveRate = confusion && total ? (confusion.tp + confusion.fn) / total : undefined;
  const threshold = typeof ev.threshold === 'number' ? ev.threshold : undefined;

  const roc = points(inputs.roc);
  out.push('### ROC curve', '');
  const auc = metricOf(ev.test, 'roc_auc') ?? undefined;
  out.push(
    roc.ok
      ? await charts.add('roc', 'ROC curve', () => rocChart(roc.value, { auc }), rocTable(roc.value))
      : unavailable(roc.why),
    '',
  );

  const pr = points(inputs.pr);
  out.push('### Precision–recall curve', '');
  const averagePrecision = metricOf(ev.test, 'pr_auc') ?? undefined;
  out.push(
    pr.ok
      ? await charts.add(
          'pr',
          'Precision-recall curve',
          () => prChart(pr.value, { averagePrecision, positiveRate }),
          prTable(pr.value),
        )
      : unavailable(pr.why),
    '',
  );

  out.push('### Confusion matrix', '');
  if (!confusion) out.push(unavailable('`metrics/evaluate.json` has no `test.confusion` counts'), '');
  else {
    const labels = ev.class_labels;
    out.push(
      await charts.add(
        'confusion',
        'Confusion matrix',
        () => confusionMatrixChart(confusion, { threshold, labels }),
        confusionTable(confusion, labels),
      ),
      '',
    );
  }

  const calibration = points(inputs.calibration);
  const before = points(inputs.calibrationBefore);
  out.push('### Calibration', '');
  const c = ev.calibration;
  if (c) {
    const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4));
    out.push(
      `Served probabilities are calibrated (${calibrationPhrase(c.method)}): ` +
        `expected calibration error ${f(c.ece)} (before: ${f(c.ece_uncalibrated)}), log loss ${f(c.log_loss)} (before: ${f(c.log_loss_uncalibrated)}; class-prior baseline ${f(c.log_loss_baseline)}).`,
      '',
    );
  }
  if (before.ok && c && c.method !== 'none')
    out.push(
      await charts.add(
        'calibration-before',
        'Calibration before calibration (raw model output)',
        () => calibrationChart(before.value, { title: 'Before calibration (raw model output, test set)' }),
        calibrationTable(before.value),
      ),
      '',
    );
  out.push(
    calibration.ok
      ? await charts.add(
          'calibration',
          'Calibration',
          () =>
            calibrationChart(
              calibration.value,
              c && c.method !== 'none' ? { title: 'After calibration (served probabilities, test set)' } : {},
            ),
          calibrationTable(calibration.value),
        )
      : unavailable(calibration.why),
  );
  return out.join('\n');
}

export function edgeCaseSection(ev: Evaluation): string {
  const out = ['## Edge-case validation', ''];
  const e = ev.edge_cases;
  if (!e) out.push(unavailable('`metrics/evaluate.json` has no `edge_cases`; the evaluate stage runs them'));
  else {
    const verdict = e.failed === 0 ? '✅ none failed' : `❌ **${e.failed} failed**`;
    out.push(
      `${formatCount(e.total)} synthetic records (extreme, missing and malformed values) sent through the bundle: ` +
        `${formatCount(e.predicted)} got a finite prediction, ${formatCount(e.rejected)} were rejected with a reason; ${verdict}.`,
    );
    if (e.examples.length) {
      // Failures first: they are what a reviewer has to look at.
      const order = { failed: 0, rejected: 1, prediction: 2 } as Record<string, number>;
      const sorted = e.examples
        .map((x, i) => ({ x, i }))
        .sort((a, b) => (order[a.x.outcome] ?? 3) - (order[b.x.outcome] ?? 3) || a.i - b.i);
      const shown = sorted.slice(0, 100);
      const rows = shown.map(({ x }) => [
        x.case,
        raw(x.outcome === 'failed' ? '❌ failed' : x.outcome),
        truncate(x.detail, 160),
      ]);
      const more =
        sorted.length > shown.length
          ? `\n\n${sorted.length - shown.length} more cases are in \`metrics/evaluate.json\`.`
          : '';
      out.push(
        '',
        details(`All ${formatCount(e.examples.length)} cases`, table(['case', 'outcome', 'detail'], rows) + more),
      );
    }
  }
  if (ev.latency_ms)
    out.push('', `Single-record latency through the bundle: p50 ${ev.latency_ms.p50} ms, p95 ${ev.latency_ms.p95} ms.`);
  return out.join('\n');
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** How the served probabilities were calibrated; a blend (evaluate's `per_member`) has no calibration of its own. */
export function calibrationPhrase(method: string): string {
  if (method === 'none') return 'no calibration in this bundle';
  if (method === 'per_member') return 'a blend: each member calibrated on validation, then their mean served';
  return `${method}, fitted on validation`;
}
