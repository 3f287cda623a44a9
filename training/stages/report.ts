/**
 * Stage `report`: `metrics/report.md`, one page GitHub renders and `cml comment create` accepts
 * (images are relative links to `metrics/report/*.png`, which CML uploads). Built only from the
 * JSON the other stages wrote, so it is deterministic for the same inputs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceDirAtomic, writeFileAtomic } from '../../core/atomic.ts';
import { calibrationSpec, confusionSpec, distributionSpec, markdownTable, prSpec, renderChart, residualSpec, rocSpec } from '../../core/plots.ts';
import type { Logger } from '../../core/log.ts';
import { isMain, runStageCli } from '../stage-cli.ts';

export const REPORT_FILE = 'metrics/report.md';
export const REPORT_ASSETS = 'metrics/report';
export const REPORT_MARKER = '<!-- gitops-ml-report -->';

/** The stage inputs are other stages' JSON outputs, read loosely: a missing part degrades the report, never fails it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function readJson(repoRoot: string, path: string): Promise<Json | null> {
  try {
    return JSON.parse(await readFile(join(repoRoot, path), 'utf8'));
  } catch {
    return null;
  }
}

const LOWER_IS_BETTER = new Set(['log_loss', 'mae', 'rmse', 'smape']);
const num = (v: unknown, d = 4) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—');

export function delta(metric: string, a: unknown, b: unknown): string {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) return '—';
  const d = a - b;
  if (Math.abs(d) < 5e-5) return '±0';
  const better = LOWER_IS_BETTER.has(metric) ? d < 0 : d > 0;
  return `${better ? '▲' : '▼'} ${d > 0 ? '+' : ''}${d.toFixed(4)}`;
}

function headline(ev: Json, reg: Json | null): string {
  const metrics = ev.task === 'classification' ? ['roc_auc', 'pr_auc', 'log_loss', 'f1', 'precision', 'recall', 'accuracy'] : ['rmse', 'mae', 'r2', 'smape'];
  const ordered = [ev.primary_metric, ...metrics.filter((m) => m !== ev.primary_metric)];
  const prod = reg?.production_before ?? null;
  const rows = ordered.map((m) => {
    const prodValue = !prod ? undefined : m === ev.primary_metric ? prod.metric : prod.metrics?.[m];
    return `| ${m === ev.primary_metric ? `**${m}** ★` : m} | ${num(ev.test[m])} | ${prodValue === undefined ? '—' : num(prodValue)} | ${prodValue === undefined ? '—' : delta(m, ev.test[m], prodValue)} | ${num(ev.baseline[m])} | ${delta(m, ev.test[m], ev.baseline[m])} |`;
  });
  const prodTitle = prod ? `production v${prod.version}` : 'production';
  // Production is re-scored by the register stage on this run's test rows, so the columns compare like with like.
  return [`| metric | this run | ${prodTitle} | Δ vs production | baseline | Δ vs baseline |`, '|---|---|---|---|---|---|', ...rows].join('\n');
}

function details(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

export async function buildReport(repoRoot: string): Promise<{ markdown: string; charts: Record<string, Json> }> {
  const ev = await readJson(repoRoot, 'metrics/evaluate.json');
  if (!ev) throw new Error('metrics/evaluate.json is missing; run the evaluate stage first (`npm run pipeline -- evaluate`)');
  const [reg, train, experiments, validate, prepare, manifest, roc, pr, calibration, residuals, distributions] = await Promise.all(
    ['metrics/register.json', 'metrics/train.json', 'metrics/experiments.json', 'metrics/validate.json', 'metrics/prepare.json', 'data/manifest.json', 'metrics/plots/roc.json', 'metrics/plots/pr.json', 'metrics/plots/calibration.json', 'metrics/plots/residuals.json', 'metrics/feature-distributions.json'].map((p) => readJson(repoRoot, p)),
  );
  const charts: Record<string, Json> = {};
  const out: string[] = [REPORT_MARKER];
  const verdict = reg ? { promoted: 'promoted to production', staging: 'kept in staging', rejected: 'rejected' }[reg.decision as string] ?? reg.decision : 'not registered';
  out.push(`# ${ev.model_name}${reg ? ` v${reg.version}` : ''}: ${verdict}`, '');
  if (reg) out.push(`> ${reg.reason}`, '');
  out.push(`Candidate \`${ev.candidate}\`, ${ev.task}, test split of ${Number(ev.rows_test).toLocaleString('en-US')} rows${ev.threshold !== undefined ? `, threshold ${num(ev.threshold, 3)} (max F1 on validation)` : ''}. Baseline: ${ev.baseline_kind}.`, '');
  out.push('## Headline', '', headline(ev, reg), '');
  if (reg?.gates) {
    out.push('## Promotion gates', '', '| gate | result | detail |', '|---|---|---|');
    for (const [name, g] of Object.entries(reg.gates as Record<string, Json>)) out.push(`| ${name} | ${g.passed ? '✅ pass' : '❌ fail'} | ${g.detail} |`);
    out.push('');
  }

  out.push('## Charts', '');
  if (ev.task === 'classification') {
    const prevalence = ev.test.confusion ? (ev.test.confusion.tp + ev.test.confusion.fn) / ev.rows_test : null;
    charts.roc = rocSpec(roc ?? [], typeof ev.test.roc_auc === 'number' ? ev.test.roc_auc : null);
    charts.pr = prSpec(pr ?? [], prevalence);
    charts.confusion = confusionSpec(ev.test.confusion, ev.threshold ?? null);
    charts.calibration = calibrationSpec(calibration ?? []);
    out.push('![ROC curve](report/roc.png) ![Precision-recall curve](report/pr.png)', '');
    out.push('![Confusion matrix](report/confusion.png) ![Calibration](report/calibration.png)', '');
    const c = ev.test.confusion;
    out.push(details('Charts as tables', [
      '**Confusion matrix**', '', '| | predicted late | predicted on time |', '|---|---|---|', `| actually late | ${c.tp} | ${c.fn} |`, `| actually on time | ${c.fp} | ${c.tn} |`, '',
      '**ROC**', '', markdownTable(roc ?? [], 10), '', '**Calibration**', '', markdownTable(calibration ?? [], 10),
    ].join('\n')), '');
  } else {
    charts.residuals = residualSpec(residuals ?? []);
    out.push('![Prediction error](report/residuals.png)', '', details('Residuals as a table', markdownTable(residuals ?? [], 20)), '');
  }

  out.push('## Data', '');
  const batches = Array.isArray(manifest?.batches) ? manifest!.batches.length : null;
  out.push(`| | |`, `|---|---|`);
  if (batches !== null) out.push(`| raw batches | ${batches} (${manifest!.batches[0]?.first_time ?? '?'} → ${manifest!.batches.at(-1)?.last_time ?? '?'}) |`);
  if (validate) out.push(`| rows validated | ${validate.rows_in.toLocaleString('en-US')} |`, `| rows rejected | ${validate.rows_rejected.toLocaleString('en-US')} (${(validate.reject_rate * 100).toFixed(3)}%)${Object.keys(validate.rejects_by_reason ?? {}).length ? ': ' + Object.entries(validate.rejects_by_reason).map(([k, v]) => `${k} ${v}`).join(', ') : ''} |`);
  if (prepare) for (const s of ['train', 'validation', 'test']) out.push(`| ${s} | ${Number(prepare[`${s}_rows`]).toLocaleString('en-US')} rows, ${prepare[`${s}_first_time`]} → ${prepare[`${s}_last_time`]}${prepare[`${s}_positive_rate`] !== undefined ? `, ${(prepare[`${s}_positive_rate`] * 100).toFixed(1)}% late` : ''} |`);
  if (!validate && !prepare) out.push('| data summary | metrics/validate.json and metrics/prepare.json are missing |');
  out.push('');

  if (distributions) {
    const names = Object.keys(distributions);
    for (const n of names) charts[`feature-${n}`] = distributionSpec(n, distributions[n].bins);
    out.push('## Feature distributions: train vs test', '', details(`${names.length} features (charts)`, names.map((n) => `![${n}](report/feature-${n}.png)`).join('\n\n')), '');
  }

  const currentRun = train?.run_id;
  const runs = (experiments?.runs ?? []) as Json[];
  const current = runs.filter((r) => r.run_id === currentRun);
  if (current.length) {
    const primary = ev.primary_metric;
    const sorted = [...current].sort((a, b) => (LOWER_IS_BETTER.has(primary) ? a.val[primary] - b.val[primary] : b.val[primary] - a.val[primary]));
    const table = ['| candidate | validation ' + primary + ' | epochs (best) | rows/s | seconds |', '|---|---|---|---|---|', ...sorted.map((r) => `| ${r.selected ? `**${r.candidate}** ✔` : r.candidate} | ${num(r.val[primary])} | ${r.epochs} (${r.best_epoch}) | ${Number(r.rows_per_s).toLocaleString('en-US')} | ${num(r.duration_s, 1)} |`)].join('\n');
    out.push('## Candidates', '', details(`${current.length} candidates trained on ${current[0].backend} (selected: ${train!.selected})`, table), '');
    const earlier = new Set(runs.filter((r) => r.run_id !== currentRun).map((r) => r.run_id)).size;
    if (earlier) out.push(`${earlier} earlier training run(s) are in metrics/experiments.json.`, '');
  }

  if (ev.edge_cases) {
    const e = ev.edge_cases;
    const rows = (e.examples as Json[]).map((x) => `| ${x.case} | ${x.outcome} | ${String(x.detail).replace(/\|/g, '\\|').slice(0, 120)} |`);
    out.push('## Edge-case validation', '', `${e.total} synthetic records: ${e.predicted} finite predictions, ${e.rejected} clear rejections, **${e.failed} failures**.`, '', details('All cases', ['| case | outcome | detail |', '|---|---|---|', ...rows].join('\n')), '');
  }
  if (ev.latency_ms) out.push(`Single-record latency through the bundle: p50 ${ev.latency_ms.p50} ms, p95 ${ev.latency_ms.p95} ms.`, '');
  return { markdown: out.join('\n'), charts };
}

export async function report(options: { repoRoot: string; log: Logger }): Promise<void> {
  const { repoRoot, log } = options;
  const { markdown, charts } = await buildReport(repoRoot);
  await replaceDirAtomic(join(repoRoot, REPORT_ASSETS), async (dir) => {
    for (const [name, spec] of Object.entries(charts)) {
      const { png } = await renderChart(spec);
      await writeFileAtomic(join(dir, `${name}.png`), png);
    }
  });
  await writeFileAtomic(join(repoRoot, REPORT_FILE), markdown);
  log.info(`wrote ${REPORT_FILE} with ${Object.keys(charts).length} charts in ${REPORT_ASSETS}/`);
}

if (isMain(import.meta.url)) {
  await runStageCli('report', async (log) => report({ repoRoot: process.cwd(), log }));
}
