import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GITHUB_COMMENT_LIMIT,
  MARKER,
  adaptImages,
  composeComment,
  truncateMarkdown,
  type CommentInput,
} from './comment.ts';
import { diffMetrics, summarizeEvaluate } from './metrics-diff.ts';
import { MAX_FEATURE_CHARTS, chartSections, loadChartData, type ChartSection } from './report/charts.ts';
import { checkXychart } from './report/xychart-check.ts';
import { writeMetricsFixture } from '../../harness/testing/report/fixtures.ts';
import { parsedMetricsFixture } from '../../harness/testing/core/metrics-fixtures.ts';
import { readMetrics } from '../../core/schemas/metrics-files.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const current = summarizeEvaluate(
  parsedMetricsFixture('evaluate', { test: { roc_auc: 0.7, accuracy: 0.5, log_loss: 0.6 } }),
);
const ci = { accuracy: [0.43, 0.57] as [number, number] };

function input(over: Partial<CommentInput> = {}): CommentInput {
  return {
    context: 'PR #42 · 5555555',
    baseLabel: 'base `model`',
    vsBase: diffMetrics(current, { roc_auc: 0.65, accuracy: 0.4, log_loss: 0.5 }, ci),
    vsProduction: diffMetrics(current, { roc_auc: 0.7, accuracy: 0.52, log_loss: 0.7 }, ci),
    register: parsedMetricsFixture('register', {
      version: 5,
      decision: 'promoted',
      reason: 'roc_auc +0.05 over v4',
      production_before: { version: 4, metric: 0.65 },
      gates: {
        latency: { passed: true, detail: 'p95 0.1 ms' },
        edge_cases: { passed: false, detail: '2 of 50 | failed' },
      },
      gto_tags: ['flight-delay@v5.0.0', 'flight-delay#production#5'],
    }),
    drift: parsedMetricsFixture('dataDrift', {
      status: 'ok',
      production_version: 4,
      dataset_drift: true,
      drift_share: 0.5,
      drifted_features: ['date.month'],
      features: { 'date.month': { method: 'jensen_shannon', score: 0.9, threshold: 0.1, drifted: true, status: 'ok' } },
    }),
    reportMarkdown: `${MARKER}\n\n# 🟢 report\n\n![ROC curve](report/roc.png)\n\n| a | b |\n| - | - |\n`,
    ...over,
  };
}

test('marker first; headline vs base and production with arrows and noise flags; gates; drift; report folded', () => {
  const text = composeComment(input());
  const lines = text.split('\n');
  assert.equal(lines[0], MARKER);
  assert.equal(text.split(MARKER).length, 2, 'the report’s own marker is removed');
  assert.match(
    text,
    /\| \*\*roc_auc\*\* \(primary\) \| 0\.7000 \| – \| 0\.6500 \| ▲ \+0\.0500 \(better\) \| 0\.7000 \| = 0\.0000 \|/,
  );
  assert.match(
    text,
    /\| accuracy \| 0\.5000 \| 0\.4300–0\.5700 \| 0\.4000 \| ▲ \+0\.1000 \(better\) \*\*beyond noise\*\* \| 0\.5200 \| ▼ -0\.0200 \(worse\) _within noise_ \|/,
  );
  assert.match(text, /\| log_loss \| .* ▲ \+0\.1000 \(worse\) \| 0\.7000 \| ▼ -0\.1000 \(better\) \|/);
  assert.match(text, /production v4/);
  assert.match(text, /### Promotion: 🟢 v5 → promoted/);
  assert.match(text, /1 of 2 gates passed/);
  assert.match(text, /\| edge_cases \| ❌ fail \| 2 of 50 \\\| failed \|/);
  assert.match(
    text,
    /\| metric \| this run \| 95% CI \| base `model` \| Δ vs base `model` \| production v4 \| Δ vs production v4 \|/,
  );
  assert.match(text, /\nTags: `flight-delay@v5\.0\.0` `flight-delay#production#5`/);
  // A pull request's run pushes no tags: the comment does not say it did.
  assert.match(
    composeComment(input({ pushesTags: false })),
    /\nTags the train workflow would push \(this run pushes none\): `flight-delay@v5\.0\.0`/,
  );
  assert.match(text, /dataset drift \(50 % of features\)/);
  assert.match(text, /\| date\.month \| jensen_shannon \| 0\.9000 \| 0\.1000 \| ⚠️ yes \|/);
  assert.match(text, /<details><summary>Full training report[^\n]*\n\n# 🟢 report/);
  assert.match(text, /<\/details>\n$/);
});

test('images: absolute URLs with an image host, else dropped (tables stay)', () => {
  const md =
    'a\n\n![ROC curve](report/roc.png)\n\nsee ![x](report/pr.png) inline\n| t |\n![ext](https://example.com/a.png)';
  const host = (p: string) => `https://img.example.com/acme/abc/metrics/${p}`;
  assert.equal(
    adaptImages(md, host),
    'a\n\n![ROC curve](https://img.example.com/acme/abc/metrics/report/roc.png)\n\nsee ![x](https://img.example.com/acme/abc/metrics/report/pr.png) inline\n| t |\n![ext](https://example.com/a.png)',
  );
  assert.equal(adaptImages(md, null), 'a\n\n\nsee x inline\n| t |\n![ext](https://example.com/a.png)');
  assert.doesNotMatch(composeComment(input()), /report\/roc\.png/);
  assert.match(
    composeComment(input({ images: (p) => `https://h/m/${p}` })),
    /!\[ROC curve\]\(https:\/\/h\/m\/report\/roc\.png\)/,
  );
});

test('no production model yet: the drift section says so in words, not as a status code', () => {
  const text = composeComment(input({ drift: parsedMetricsFixture('dataDrift', { status: 'no_production_model' }) }));
  assert.match(text, /### Data drift vs production\n\n_No production model yet: nothing to compare this data with\._/);
  assert.doesNotMatch(text, /no_production_model/);
});

test('no base metrics: the comment says so', () => {
  const text = composeComment(input({ vsBase: diffMetrics(current, null, ci), baseLabel: 'base `model`' }));
  assert.match(text, /No metrics on base `model` to compare with/);
});

test('a huge report is truncated under 65,536 characters with a note and balanced <details>', () => {
  const row = '| 0.1234 | 0.5678 | 0.9012 |\n';
  const huge = `${MARKER}\n# r\n<details><summary>t</summary>\n\n${row.repeat(5000)}\n</details>\n`;
  const text = composeComment(input({ reportMarkdown: huge }));
  assert.ok(text.length <= GITHUB_COMMENT_LIMIT, `${text.length} characters`);
  assert.ok(text.length > GITHUB_COMMENT_LIMIT - 2000, 'uses the room it has');
  assert.match(text, /Report truncated to fit GitHub's 65,536-character comment limit/);
  assert.equal((text.match(/<details>/g) ?? []).length, (text.match(/<\/details>/g) ?? []).length);
  assert.equal(truncateMarkdown('short', 100, 'note'), 'short');
});

test('the real metrics/report.md fits and keeps its text fallbacks', async () => {
  const report = await readFile(join(repoRoot, 'metrics', 'report.md'), 'utf8').catch(() => null);
  if (!report) return;
  const text = composeComment(input({ reportMarkdown: report }));
  assert.ok(text.length < GITHUB_COMMENT_LIMIT);
  assert.doesNotMatch(text, /\]\(report\//);
  assert.match(text, /ROC curve as a table/);
});

const chart = (id: string, size: number): ChartSection => ({
  id,
  title: `chart ${id}`,
  markdown: `#### chart ${id}\n\n${'x'.repeat(size)}`,
});
const FOOTER = '![](https://cml.dev/watermark.png#abc "CML watermark")';

test('charts come after the drift section, in order; the watermark is the last line', () => {
  const text = composeComment(input({ charts: [chart('a', 10), chart('b', 10)], footer: FOOTER }));
  assert.ok(text.indexOf('### Data drift') < text.indexOf('### Charts'));
  assert.ok(text.indexOf('#### chart a') < text.indexOf('#### chart b'));
  assert.ok(text.indexOf('#### chart b') < text.indexOf('<details><summary>Full training report'));
  assert.ok(text.endsWith(`\n${FOOTER}\n`));
  assert.doesNotMatch(text, /Left out/);
});

test('over the limit: the report shrinks first, then goes, then charts go from the least important, and the comment says so', () => {
  const report = `${MARKER}\n# r\n${'| 1 | 2 |\n'.repeat(3000)}`;
  const charts = [
    chart('roc', 3000),
    chart('calibration', 3000),
    chart('pr', 3000),
    chart('f1', 3000),
    chart('f2', 3000),
  ];
  const base = composeComment(input({ reportMarkdown: null, footer: FOOTER })).length;
  // Room for all charts and a truncated report.
  let text = composeComment(input({ reportMarkdown: report, charts, footer: FOOTER, limit: base + 20_000 }));
  assert.ok(text.length <= base + 20_000);
  assert.match(text, /Report truncated to fit/);
  assert.ok(charts.every((c) => text.includes(`#### ${c.title}`)));
  // Room for the charts only: the report becomes a pointer.
  text = composeComment(input({ reportMarkdown: report, charts, footer: FOOTER, limit: base + 16_000 }));
  assert.match(text, /The full training report \([0-9,]+ characters\) is left out/);
  assert.ok(charts.every((c) => text.includes(`#### ${c.title}`)));
  // Room for three charts: the last two go, named in order.
  text = composeComment(input({ reportMarkdown: report, charts, footer: FOOTER, limit: base + 10_500 }));
  assert.ok(text.length <= base + 10_500, `${text.length}`);
  assert.match(
    text,
    /Left out to fit GitHub's [0-9,]+-character comment limit \(least important first\): chart f1; chart f2\./,
  );
  assert.ok(['roc', 'calibration', 'pr'].every((id) => text.includes(`#### chart ${id}`)));
  assert.ok(text.endsWith(`${FOOTER}\n`), 'the watermark survives');
});

test('the largest report (full-data run, 60 drift-checked features of 40 bins) fits, charts parse, watermark kept', async () => {
  const dir = await tempDir('largest-');
  const { names } = await writeMetricsFixture(dir, { features: 60, bins: 40 });
  const data = await loadChartData(dir);
  const drift = (await readMetrics('dataDrift', { dir: dir }))!;
  const report = await readFile(join(dir, 'report.md'), 'utf8');
  assert.ok(report.length > GITHUB_COMMENT_LIMIT, `the synthetic report is large: ${report.length}`);
  for (const images of [
    null,
    (p: string) => `https://github.com/acme/gitops-ml/blob/${'a'.repeat(40)}/metrics/${p}?raw=true`,
  ]) {
    const text = composeComment(
      input({ reportMarkdown: report, drift, charts: chartSections(data, drift, images), footer: FOOTER }),
    );
    assert.ok(text.length <= GITHUB_COMMENT_LIMIT, `${text.length} characters`);
    assert.ok(text.endsWith(`${FOOTER}\n`));
    for (const m of text.matchAll(/```mermaid\n([\s\S]*?)\n```/g)) assert.doesNotThrow(() => checkXychart(m[1]));
    assert.match(text, /#### ROC curve/);
    assert.match(text, /Drift score per feature/);
    assert.equal((text.match(/<details>/g) ?? []).length, (text.match(/<\/details>/g) ?? []).length);
    assert.ok(names.length > MAX_FEATURE_CHARTS);
  }
});
