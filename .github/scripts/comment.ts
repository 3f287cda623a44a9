/**
 * The PR / commit comment: a headline vs the base branch and vs production, the promotion gates,
 * drift against production, then the whole training report folded away. Pure: all inputs are
 * passed in, so the same text goes to the PR, the commit, the job summary and `pr-comment.md`.
 */
import type { DiffRow } from './metrics-diff.ts';
import type { ChartSection, ImageUrl } from './report/charts.ts';
import type { DataDriftFile, RegisterFile } from '../../core/schemas/metrics-files.ts';

export const MARKER = '<!-- gitops-ml-report -->';
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface CommentInput {
  /** e.g. "PR #42 · 5555555" or "push to model · 2222222". */
  context: string;
  baseLabel: string | null;
  vsBase: DiffRow[];
  vsProduction: DiffRow[];
  register: RegisterFile | null;
  drift: DataDriftFile | null;
  reportMarkdown: string | null;
  /** Where the report's PNGs can be loaded (null: nowhere; the folded report loses its images). */
  images?: ImageUrl;
  /** Most important first; dropped from the end when the comment would exceed `limit`. */
  charts?: ChartSection[];
  /** Notes under the charts heading (e.g. how many feature charts only the full report has). */
  chartNotes?: string[];
  /** Last line (CML's watermark), always kept. */
  footer?: string | null;
  /** Whether this run pushes the registry's tags (a push to `model`); a pull request's run pushes none. */
  pushesTags?: boolean;
  /** Test rows of the base's evaluation, when they are not this run's (its deltas compare two test sets). */
  baseRowsDiffer?: { base: number; current: number } | null;
  /** Production as the base branch recorded it, when this run had no registry to score it on its rows. */
  productionFromBase?: { version: number; label: string } | null;
  limit?: number;
}

const fmt = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(4);
const signed = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(4);

function deltaCell(row: DiffRow | undefined): string {
  if (!row || row.delta === null) return '–';
  if (row.direction === 'same') return '= 0.0000';
  const arrow = row.direction === 'up' ? '▲' : '▼';
  const verdict = row.better ? 'better' : 'worse';
  const noise = row.beyondNoise === true ? ' **beyond noise**' : row.beyondNoise === false ? ' _within noise_' : '';
  return `${arrow} ${signed(row.delta)} (${verdict})${noise}`;
}

function headline(input: CommentInput): string[] {
  const prod = input.register?.production_before;
  const prodLabel = input.productionFromBase
    ? `production v${input.productionFromBase.version}`
    : prod?.version
      ? `production v${prod.version}`
      : 'production';
  const byProd = new Map(input.vsProduction.map((r) => [r.metric, r]));
  const byBase = new Map(input.vsBase.map((r) => [r.metric, r]));
  const rows = input.vsBase.length ? input.vsBase : input.vsProduction;
  const primary = input.register?.primary_metric ?? rows[0]?.metric;
  const lines = [
    `| metric | this run | 95% CI | ${input.baseLabel ?? 'base'} | Δ vs ${input.baseLabel ?? 'base'} | ${prodLabel} | Δ vs ${prodLabel} |`,
    '| --- | ---: | :---: | ---: | --- | ---: | --- |',
  ];
  for (const r of rows) {
    const b = byBase.get(r.metric);
    const p = byProd.get(r.metric);
    const name = r.metric === primary ? `**${r.metric}** (primary)` : r.metric;
    const ci = r.ci ? `${r.ci[0].toFixed(4)}–${r.ci[1].toFixed(4)}` : '–';
    lines.push(
      `| ${name} | ${fmt(r.current)} | ${ci} | ${fmt(b?.base)} | ${deltaCell(b)} | ${fmt(p?.base)} | ${deltaCell(p)} |`,
    );
  }
  lines.push(
    '',
    '_95% CI: seeded bootstrap on the test set — rows resampled by the evaluate stage for ROC-AUC, PR-AUC and log loss (or MAE, RMSE, R²); the confusion matrix resampled as a multinomial for accuracy, precision, recall and F1. "beyond noise": the reference value lies outside this interval._',
  );
  if (!input.vsBase.length || input.vsBase.every((r) => r.base === null))
    lines.push('', `_No metrics on ${input.baseLabel ?? 'the base'} to compare with._`);
  else if (input.baseRowsDiffer)
    lines.push(
      '',
      `_${input.baseLabel ?? 'The base'} was scored on other test rows (${input.baseRowsDiffer.base.toLocaleString('en-US')}, this run on ${input.baseRowsDiffer.current.toLocaleString('en-US')}): its deltas compare two test sets as well as two models, so none is called beyond noise.${input.productionFromBase ? '' : " The production columns score both models on this run's rows."}_`,
    );
  if (input.productionFromBase)
    lines.push(
      '',
      `_Production v${input.productionFromBase.version}: its test metrics as ${input.productionFromBase.label} recorded them (this run has no registry to score it on its own rows${input.baseRowsDiffer ? ', and the rows differ, so no delta is called beyond noise' : ''})._`,
    );
  return lines;
}

function gates(reg: RegisterFile, pushesTags: boolean): string[] {
  const icon =
    reg.decision === 'promoted'
      ? '🟢'
      : reg.decision === 'rejected'
        ? '🔴'
        : reg.decision === 'candidate'
          ? '⚪'
          : '🟡';
  const lines = [`### Promotion: ${icon} v${reg.version} → ${reg.decision}`, '', `> ${reg.reason}`, ''];
  const entries = Object.entries(reg.gates ?? {});
  if (entries.length) {
    lines.push(
      `${entries.filter(([, g]) => g.passed).length} of ${entries.length} gates passed.`,
      '',
      '| gate | result | detail |',
      '| --- | --- | --- |',
    );
    for (const [name, g] of entries)
      lines.push(`| ${name} | ${g.passed ? '✅ pass' : '❌ fail'} | ${g.detail.replace(/\|/g, '\\|')} |`);
  }
  if (reg.gto_tags?.length)
    lines.push(
      '',
      `${pushesTags ? 'Tags' : 'Tags the train workflow would push (this run pushes none)'}: ${reg.gto_tags.map((t) => `\`${t}\``).join(' ')}`,
    );
  return lines;
}

function drift(d: DataDriftFile, productionElsewhere: number | null): string[] {
  const against = d.production_version ? `production v${d.production_version}` : 'production';
  // The one status besides ok (core/schemas/metrics-files.ts).
  if (d.status === 'no_production_model')
    return [
      `### Data drift vs ${productionElsewhere ? `production v${productionElsewhere}` : against}`,
      '',
      productionElsewhere
        ? "_Not measured here: this run has no registry to read production's reference from; the push that trains this branch measures it._"
        : '_No production model yet: nothing to compare this data with._',
    ];
  const feats = Object.entries(d.features ?? {});
  const share = d.drift_share !== undefined ? ` (${Math.round(d.drift_share * 100)} % of features)` : '';
  const lines = [
    `### Data drift vs ${against}: ${d.dataset_drift ? '⚠️ dataset drift' : 'no dataset drift'}${share}`,
    '',
    d.drifted_features?.length
      ? `Drifted: ${d.drifted_features.map((f) => `\`${f}\``).join(', ')}`
      : 'No feature drifted.',
  ];
  if (feats.length) {
    lines.push('', '| feature | method | score | threshold | drifted |', '| --- | --- | ---: | ---: | --- |');
    for (const [name, f] of feats)
      lines.push(
        `| ${name} | ${f.method ?? ''} | ${fmt(f.score)} | ${fmt(f.threshold)} | ${f.drifted ? '⚠️ yes' : 'no'} |`,
      );
  }
  return lines;
}

const IMAGE = /!\[([^\]]*)\]\((report\/[^)\s]+\.(?:png|svg))\)/g;

/** Report images are files in the checkout; GitHub can only show them from a URL. */
export function adaptImages(markdown: string, images?: ImageUrl): string {
  if (images) return markdown.replace(IMAGE, (_m, alt: string, path: string) => `![${alt}](${images(path)})`);
  return markdown
    .split('\n')
    .filter((line) => !(line.trim().match(IMAGE) && line.trim().replace(IMAGE, '').trim() === ''))
    .join('\n')
    .replace(IMAGE, '$1');
}

export function stripMarker(markdown: string): string {
  return markdown
    .split('\n')
    .filter((l) => l.trim() !== MARKER)
    .join('\n')
    .replace(/^\s+/, '');
}

/** Cut at a line boundary and close any `<details>` left open, so the comment still renders. */
export function truncateMarkdown(text: string, max: number, note: string): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - note.length - 200));
  cut = cut.slice(0, Math.max(0, cut.lastIndexOf('\n')));
  const open = (cut.match(/<details>/g) ?? []).length - (cut.match(/<\/details>/g) ?? []).length;
  return `${cut}\n\n${'</details>\n'.repeat(Math.max(0, open))}\n${note}`;
}

const count = (n: number) => n.toLocaleString('en-US');
/** Below this many characters of room the folded report is replaced by a pointer to it. */
const MIN_REPORT_ROOM = 1_500;

function chartsBlock(kept: ChartSection[], dropped: ChartSection[], notes: string[], limit: number): string {
  if (!kept.length && !dropped.length) return '';
  const lines = ['### Charts', ''];
  if (dropped.length)
    lines.push(
      `_Left out to fit GitHub's ${count(limit)}-character comment limit (least important first): ${dropped.map((c) => c.title).join('; ')}. They are in metrics/report.md._`,
      '',
    );
  for (const n of notes) lines.push(n, '');
  for (const c of kept) lines.push(c.markdown, '');
  return lines.join('\n');
}

/**
 * Headline, gates and drift always; then the charts, most important first; then the full report
 * folded. Over `limit`, the report is truncated first, then replaced by a pointer, then charts go
 * from the least important up, and the comment says what it left out.
 */
export function composeComment(input: CommentInput): string {
  const limit = input.limit ?? GITHUB_COMMENT_LIMIT;
  const reg = input.register;
  const title = reg ? `${reg.model_name} v${reg.version}` : 'model';
  const headLines = [
    MARKER,
    `## ${title}: training report`,
    '',
    `<sub>${input.context}</sub>`,
    '',
    ...headline(input),
    '',
  ];
  if (reg) headLines.push(...gates(reg, input.pushesTags ?? true), '');
  if (input.drift) headLines.push(...drift(input.drift, input.productionFromBase?.version ?? null), '');
  const head = headLines.join('\n');
  const footer = input.footer ? `\n${input.footer}\n` : '';
  const room = limit - footer.length;
  const body = input.reportMarkdown ? adaptImages(stripMarker(input.reportMarkdown), input.images) : null;
  const open = '<details><summary>Full training report (metrics/report.md)</summary>\n\n';
  const close = '\n\n</details>\n';
  const pointer = body
    ? `_The full training report (${count(body.length)} characters) is left out to fit GitHub's ${count(limit)}-character comment limit: metrics/report.md in this commit and in the run's artifacts._\n`
    : '';

  const kept = [...(input.charts ?? [])];
  const dropped: ChartSection[] = [];
  for (;;) {
    const text = head + chartsBlock(kept, dropped, input.chartNotes ?? [], limit);
    if (!body) {
      if (text.length <= room || !kept.length) return fit(text, room) + footer;
    } else {
      const left = room - text.length - open.length - close.length;
      if (left >= MIN_REPORT_ROOM) {
        const note = `_Report truncated to fit GitHub's ${count(limit)}-character comment limit (${count(body.length)} characters); the full report is metrics/report.md in this commit and in the run's artifacts._`;
        return text + open + truncateMarkdown(body, left, note) + close + footer;
      }
      if (text.length + pointer.length <= room || !kept.length) return fit(text + pointer, room) + footer;
    }
    dropped.unshift(kept.pop()!);
  }
}

const fit = (text: string, max: number) =>
  text.length <= max ? text : truncateMarkdown(text, max, '_Comment truncated._');
