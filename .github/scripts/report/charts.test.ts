import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MAX_FEATURE_CHARTS, chartSections, loadChartData } from './charts.ts';
import { checkXychart } from './xychart-check.ts';
import { rocAt, unitGrid } from './curves.ts';
import { writeMetricsFixture } from '../../../harness/testing/report/fixtures.ts';
import { commitImageUrl } from './images.ts';
import { readMetrics } from '../../../core/schemas/metrics-files.ts';
import { tempDir } from '../../../harness/testing/lifecycle.ts';

const mermaidBlocks = (md: string) => [...md.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]);
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

async function fixture(o: Parameters<typeof writeMetricsFixture>[1] = {}) {
  const dir = await tempDir('charts-');
  await writeMetricsFixture(dir, o);
  return { dir, data: await loadChartData(dir), drift: (await readMetrics('dataDrift', { dir: dir }))! };
}

test('without image URLs: Mermaid charts for ROC, calibration, PR, drift and features, in that order, each parsing', async () => {
  const { data, drift } = await fixture({ features: 3, bins: 5 });
  const sections = chartSections(data, drift, null);
  assert.deepEqual(
    sections.map((s) => s.id),
    ['roc', 'calibration', 'pr', 'drift', 'confusion', 'feature:f02', 'feature:f01', 'feature:f00'],
  );
  for (const s of sections.filter((x) => x.id !== 'confusion')) {
    const blocks = mermaidBlocks(s.markdown);
    assert.equal(blocks.length, 1, s.id);
    assert.doesNotThrow(() => checkXychart(blocks[0]), s.id);
    assert.doesNotMatch(s.markdown, /!\[/, `${s.id} has no image`);
  }
  const roc = checkXychart(mermaidBlocks(sections[0].markdown)[0]);
  assert.deepEqual(roc.xAxis.range, [0, 100]);
  const model = roc.plots.find((p) => p.name === 'model')!.data;
  assert.equal(model.length, 21);
  rocAt(data.roc!, unitGrid(20)).forEach((v, i) => assert.ok(Math.abs(model[i] - v) < 1e-4, `roc[${i}]`));
  const cal = checkXychart(mermaidBlocks(sections[1].markdown)[0]);
  assert.equal(cal.xAxis.categories!.length, 9, 'the empty bin is left out');
  assert.deepEqual(
    cal.plots.map((p) => p.type),
    ['bar', 'line'],
  );
  const d = checkXychart(mermaidBlocks(sections[3].markdown)[0]);
  assert.deepEqual(d.xAxis.categories, ['f00', 'f01', 'f02']);
  assert.deepEqual(
    d.plots[0].data,
    ['f00', 'f01', 'f02'].map((f) => drift.features![f].score!),
  );
  // The tables stay, folded.
  assert.match(sections[0].markdown, /<details><summary>ROC curve as a table<\/summary>/);
  assert.match(sections[4].markdown, /\| actual ↓ predicted → \|/);
});

test('with commit image URLs: the PNGs at that commit; drift scores (no PNG) stay Mermaid', async () => {
  const { data, drift } = await fixture({ features: 2 });
  const url = commitImageUrl({ GITHUB_REPOSITORY: 'acme/gitops-ml' }, SHA, 'metrics');
  const sections = chartSections(data, drift, url);
  const md = sections.map((s) => s.markdown).join('\n');
  for (const f of ['roc', 'pr', 'calibration', 'confusion', 'feature-f00', 'feature-f01'])
    assert.ok(md.includes(`(https://github.com/acme/gitops-ml/blob/${SHA}/metrics/report/${f}.png?raw=true)`), f);
  assert.equal(mermaidBlocks(md).length, 1);
  assert.match(sections.find((s) => s.id === 'drift')!.markdown, /```mermaid/);
});

test('a chart whose PNG is missing falls back to Mermaid even with URLs', async () => {
  const { data, drift } = await fixture({ features: 1, pngs: false });
  const sections = chartSections(data, drift, commitImageUrl({ GITHUB_REPOSITORY: 'a/b' }, SHA, 'metrics'));
  assert.doesNotMatch(sections.map((s) => s.markdown).join('\n'), /blob\//);
});

test(`at most ${MAX_FEATURE_CHARTS} feature charts, largest train/test shift first; odd feature names stay safe`, async () => {
  const { data, drift } = await fixture({ names: ['a"b', 'x`y%%z', ...Array.from({ length: 12 }, (_, i) => `g${i}`)] });
  const sections = chartSections(data, drift, null);
  const features = sections.filter((s) => s.id.startsWith('feature:'));
  assert.equal(features.length, MAX_FEATURE_CHARTS);
  const tv = features.map((s) => Number(/total variation ([0-9.]+)/.exec(s.title)![1]));
  assert.deepEqual(
    tv,
    [...tv].sort((a, b) => b - a),
  );
  for (const s of sections) for (const b of mermaidBlocks(s.markdown)) assert.doesNotThrow(() => checkXychart(b), s.id);
});

test('missing plot files leave their charts out; a malformed one fails naming the file and field', async () => {
  const dir = await tempDir('charts-');
  const data = await loadChartData(dir);
  assert.deepEqual(chartSections(data, null, null), []);
  const { rm, writeFile } = await import('node:fs/promises');
  await writeMetricsFixture(dir, { features: 1 });
  await rm(join(dir, 'plots', 'roc.json'));
  const without = chartSections(await loadChartData(dir), null, null).map((s) => s.id);
  assert.ok(!without.includes('roc') && without.includes('pr'), without.join(' '));
  await writeFile(join(dir, 'plots', 'roc.json'), JSON.stringify([{ fpr: 'x' }]));
  await assert.rejects(loadChartData(dir), (err: Error) =>
    err.message.startsWith(`${join(dir, 'plots', 'roc.json')}: field \`0.fpr\`: `),
  );
  await writeFile(join(dir, 'plots', 'roc.json'), '{not json');
  await assert.rejects(loadChartData(dir), /roc\.json is not valid JSON/);
});
