/** Report sections about the data and the training runs: data summary, train-vs-test feature distributions, candidate leaderboard. */
import { details, escapeCell, formatCount, formatPercent, raw, table, type Cell } from '../../core/charts/markdown.ts';
import { distributionChart, distributionTable, totalVariation, type DistributionBin } from '../../core/charts/index.ts';
import { formatMetric, higherIsBetter } from './headline.ts';
import { metricOf, type Evaluation, type ExperimentRun, type ReportInputs } from './inputs.ts';
import { sameModel } from '../../core/schemas/metrics-files.ts';
import type { ReportCharts } from './assets.ts';

const unavailable = (why: string) => `_Not available: ${why}._`;
const SPLITS = ['train', 'validation', 'test'] as const;
/** A train-vs-test total variation distance from here on is worth a look. */
export const SHIFT_WARNING = 0.1;

export function dataSection(inputs: ReportInputs): string {
  const blocks = ['## Data'];
  const rows: Cell[][] = [];
  const { manifest, validate, prepare } = inputs;
  if (manifest.ok) {
    const b = manifest.value.batches;
    const span = b.length ? ` (${b[0].first_time ?? '?'} → ${b[b.length - 1].last_time ?? '?'})` : '';
    rows.push(['raw batches ingested', `${formatCount(b.length)}${span}`]);
  }
  if (validate.ok) {
    const v = validate.value;
    rows.push(
      ['rows validated', formatCount(v.rows_in)],
      ['rows valid', formatCount(v.rows_valid)],
      ['rows rejected', `${formatCount(v.rows_rejected)} (${formatPercent(v.reject_rate, 3)})`],
    );
  }
  if (rows.length) blocks.push(table(['', ''], rows, ['left', 'right']));
  for (const input of [manifest, validate, prepare]) if (!input.ok) blocks.push(unavailable(input.why));

  if (validate.ok) {
    const reasons = Object.entries(validate.value.rejects_by_reason).sort(
      (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
    );
    if (reasons.length)
      blocks.push(
        '**Rejects by reason**',
        table(
          ['reason', 'rows'],
          reasons.map(([r, n]) => [r, formatCount(n)]),
          ['left', 'right'],
        ),
      );
  }
  if (prepare.ok) blocks.push(...splitsBlocks(prepare.value, inputs.evaluate.task));
  return blocks.join('\n\n');
}

/** Split sizes, time ranges and positive rate (classification) or target mean (regression). */
function splitsBlocks(p: Record<string, unknown>, task: Evaluation['task']): string[] {
  const rateKey = task === 'classification' ? 'positive_rate' : 'target_mean';
  const present = SPLITS.filter((name) => num(p[`${name}_rows`]) !== null);
  if (present.length === 0) return ['_`metrics/prepare.json` has no split sizes._'];
  const total = present.reduce((s, name) => s + num(p[`${name}_rows`])!, 0);
  const rows = present.map((name) => {
    const n = num(p[`${name}_rows`])!;
    const rate = num(p[`${name}_${rateKey}`]);
    return [
      name,
      formatCount(n),
      total ? formatPercent(n / total) : null,
      str(p[`${name}_first_time`]),
      str(p[`${name}_last_time`]),
      rate === null ? null : task === 'classification' ? formatPercent(rate) : formatMetric(rate),
    ];
  });
  const method = str(p.split_method);
  return [
    `**Splits**${method ? ` (${escapeCell(method)} split)` : ''}`,
    table(['split', 'rows', 'share', 'from', 'to', task === 'classification' ? 'positive rate' : 'target mean'], rows, [
      'left',
      'right',
      'right',
      'left',
      'left',
      'right',
    ]),
  ];
}

export async function featureSection(inputs: ReportInputs, charts: ReportCharts): Promise<string> {
  const out = ['## Feature distributions: train vs test', ''];
  if (!inputs.distributions.ok) return [...out, unavailable(inputs.distributions.why)].join('\n');
  const features = Object.entries(inputs.distributions.value)
    .map(([name, f]) => ({ name, kind: f.kind, bins: f.bins, tv: totalVariation(f.bins) }))
    .sort((a, b) => b.tv - a.tv || a.name.localeCompare(b.name));
  if (features.length === 0) return [...out, '_`metrics/feature-distributions.json` lists no features._'].join('\n');
  out.push(
    `Total variation distance between the train and test shares of each feature's bins (0 = same, 1 = disjoint); ⚠️ marks ${SHIFT_WARNING} or more. Largest first.`,
    '',
    table(
      ['feature', 'kind', 'bins', 'total variation', 'largest shift'],
      features.map((f) => [
        f.name,
        f.kind,
        formatCount(f.bins.length),
        raw(`${f.tv >= SHIFT_WARNING ? '⚠️ ' : ''}${f.tv.toFixed(4)}`),
        largestShift(f.bins),
      ]),
      ['left', 'left', 'right', 'right', 'left'],
    ),
  );
  for (const f of features) {
    const body = await charts.add(
      `feature-${f.name}`,
      `${f.name}: train vs test`,
      () => distributionChart(f.name, f.bins),
      distributionTable(f.bins),
      `${f.name} bins as a table`,
    );
    out.push('', details(`${f.name} (${f.kind}, total variation ${f.tv.toFixed(4)})`, body));
  }
  return out.join('\n');
}

function largestShift(bins: DistributionBin[]): string {
  if (!bins.length) return '—';
  const top = bins.reduce((best, b) => (Math.abs(b.test - b.train) > Math.abs(best.test - best.train) ? b : best));
  return `${top.bin}: ${formatPercent(top.train)} → ${formatPercent(top.test)}`;
}

export function leaderboardSection(inputs: ReportInputs): string {
  const out = ['## Candidates', ''];
  const { experiments, train } = inputs;
  if (!experiments.ok) return [...out, unavailable(experiments.why)].join('\n');
  const runs = experiments.value.runs;
  if (runs.length === 0) return [...out, '_`metrics/experiments.json` has no runs yet._'].join('\n');
  // The train stage names its run; without train.json the append-only log's last entry is the latest.
  const current = (train.ok && train.value.run_id) || runs[runs.length - 1].run_id;
  const ev = inputs.evaluate;
  const candidates = sortByMetric(
    runs.filter((r) => r.run_id === current),
    ev,
  );
  if (candidates.length === 0)
    out.push(`_No candidates of run ${escapeCell(current)} in \`metrics/experiments.json\`._`);
  else {
    const columns = valColumns(ev, candidates);
    // Every candidate of a blend is selected: each is a member of the served mean, not the model served.
    const mark = candidates.filter((r) => r.selected).length > 1 ? '✅ in the blend' : '✅ selected';
    const rows = candidates.map((r, i) => [
      i + 1,
      raw(r.selected ? `**${escapeCell(r.candidate)}** ${mark}` : escapeCell(r.candidate)),
      r.model,
      ...columns.map((m) => formatMetric(metricOf(r.val, m))),
      r.epochs == null ? null : epochsCell(r.epochs, r.best_epoch, r.pruned),
      r.duration_s == null ? null : `${r.duration_s.toFixed(1)} s`,
      r.rows_per_s == null ? null : formatCount(r.rows_per_s),
      formatParams(r.params),
    ]);
    const headers = [
      'rank',
      'candidate',
      'model',
      ...columns.map((m) => `val ${m}`),
      'epochs',
      'train time',
      'rows/s',
      'params',
    ];
    const align = [
      'right',
      'left',
      'left',
      ...columns.map(() => 'right' as const),
      'right',
      'right',
      'right',
      'left',
    ] as const;
    const backends = [...new Set(candidates.map((r) => r.backend).filter(Boolean))].join(', ');
    const own = train.ok ? (train.value as Record<string, unknown>)[`validation_${ev.primary_metric}`] : undefined;
    const chosen = selectionPhrase(
      candidates.filter((r) => r.selected).map((r) => r.candidate),
      typeof own === 'number' ? `validation ${ev.primary_metric} ${formatMetric(own)}` : undefined,
    );
    const summary = `${candidates.length} candidates of run ${current}${backends ? ` on ${backends}` : ''}${chosen ? `; ${chosen}` : ''}`;
    out.push(
      details(
        summary,
        `Ranked by validation ${ev.primary_metric} (${higherIsBetter(ev.primary_metric, ev) ? 'higher' : 'lower'} is better).\n\n${table(headers, rows, [...align])}`,
      ),
    );
  }
  out.push(
    '',
    earlierRuns(
      runs.filter((r) => r.run_id !== current),
      ev,
      candidates[0],
    ),
  );
  return out.join('\n');
}

/**
 * The earlier runs of this model and target (the log holds every model the repository trained;
 * another model's validation value says nothing about this one), and how many others there are.
 */
export function earlierRuns(all: ExperimentRun[], ev: Evaluation, current: ExperimentRun | undefined): string {
  const runs = current?.model_name ? all.filter((r) => sameModel(r, current)) : all;
  const others = new Set(all.filter((r) => !runs.includes(r)).map((r) => r.run_id)).size;
  const otherText =
    others > 0
      ? ` ${formatCount(others)} run${others === 1 ? '' : 's'} of other models or targets (or logged before runs named their model) not compared.`
      : '';
  if (runs.length === 0) return `No earlier training runs of this model in \`metrics/experiments.json\`.${otherText}`;
  const ids = new Set(runs.map((r) => r.run_id));
  const best = sortByMetric(runs, ev)[0];
  const value = metricOf(best.val, ev.primary_metric);
  const bestText =
    value === null
      ? ''
      : `; best validation ${ev.primary_metric} ${formatMetric(value)} (\`${best.candidate.replace(/`/g, "'")}\`, run ${best.run_id}, on that run's own validation split)`;
  return `${formatCount(ids.size)} earlier training run${ids.size === 1 ? '' : 's'}${current?.model_name ? ' of this model' : ''} (${formatCount(runs.length)} candidates) in \`metrics/experiments.json\`${bestText}.${otherText}`;
}

/** Best first by the primary validation metric; runs without it last; ties by name for a stable order. */
function sortByMetric(runs: ExperimentRun[], ev: Evaluation): ExperimentRun[] {
  const sign = higherIsBetter(ev.primary_metric, ev) ? -1 : 1;
  return [...runs].sort((a, b) => {
    const va = metricOf(a.val, ev.primary_metric);
    const vb = metricOf(b.val, ev.primary_metric);
    if (va === null || vb === null) return va === vb ? a.candidate.localeCompare(b.candidate) : va === null ? 1 : -1;
    return sign * (va - vb) || a.candidate.localeCompare(b.candidate);
  });
}

/** The primary metric and up to two others the runs report. */
function valColumns(ev: Evaluation, runs: ExperimentRun[]): string[] {
  const preferred = ev.task === 'classification' ? ['roc_auc', 'pr_auc', 'log_loss', 'f1'] : ['rmse', 'mae', 'r2'];
  const others = preferred.filter((m) => m !== ev.primary_metric && runs.some((r) => metricOf(r.val, m) !== null));
  return [ev.primary_metric, ...others.slice(0, 2)];
}

function formatParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .filter(([k]) => k !== 'name' && k !== 'model')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** New training data against the data the production model was trained on (written by register). */
export function dataDriftSection(inputs: ReportInputs): string {
  const d = inputs.dataDrift;
  if (!d.ok) return ['## Data drift vs production', '', `_${d.why}_`].join('\n');
  const v = d.value;
  if (v.status !== 'ok' || !v.features)
    return ['## Data drift vs production', '', '_No production model yet: nothing to compare this data with._'].join(
      '\n',
    );
  const rows = Object.entries(v.features).map(
    ([name, f]) =>
      `| ${name} | ${f.method} | ${f.score === null ? '—' : f.score.toFixed(4)} | ${f.threshold} | ${f.status !== 'ok' ? 'n/a' : f.drifted ? '⚠️ drifted' : 'no'} |`,
  );
  return [
    '## Data drift vs production',
    '',
    `This run's training split (${(v.rows ?? 0).toLocaleString('en-US')} rows) against the reference profile of production v${v.production_version}: **${v.dataset_drift ? 'dataset drift' : 'no dataset drift'}** (${Math.round((v.drift_share ?? 0) * 100)} % of features drifted${v.drifted_features?.length ? `: ${v.drifted_features.join(', ')}` : ''}).`,
    '',
    '| feature | method | score | threshold | verdict |',
    '| --- | --- | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
}

/**
 * What the run served: the one selected candidate, or a blend's (train.blend, train.validation_blend) members it
 * averages, with the blend's own validation value (train.json): the table ranks only its members.
 */
export function selectionPhrase(selected: readonly string[], blendValidation?: string): string {
  if (selected.length > 1)
    return `served their weighted mean (${selected.join(' + ')})${blendValidation ? `, ${blendValidation}` : ''}`;
  return selected.length ? `selected ${selected[0]}` : '';
}

/** "8 (best 6)", and for a network train.prune stopped, the rival's value it could not reach. */
function epochsCell(
  epochs: number,
  best: number | null | undefined,
  pruned: { rival: number; reachable: number } | null | undefined,
): string {
  const notes = [best == null ? '' : `best ${best}`, pruned ? `stopped: a rival had ${pruned.rival.toFixed(4)}` : '']
    .filter(Boolean)
    .join('; ');
  return notes ? `${epochs} (${notes})` : `${epochs}`;
}
