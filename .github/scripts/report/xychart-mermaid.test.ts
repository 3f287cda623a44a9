/**
 * The comment's Mermaid blocks through the real Mermaid (the `mermaid` package, in headless
 * Chromium because it needs a DOM): every block of the largest report parses and renders to an
 * SVG, and on grammar vectors Mermaid and xychart-check.ts agree. Skipped without Chromium.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chartSections, loadChartData } from './charts.ts';
import { writeMetricsFixture } from '../../../harness/testing/report/fixtures.ts';
import { parseXychart } from './xychart-check.ts';
import { readMetrics } from '../../../core/schemas/metrics-files.ts';
import { tempDir } from '../../../harness/testing/lifecycle.ts';

const CHROMIUM = '/usr/bin/chromium';
const MERMAID = join(import.meta.dirname, '..', '..', '..', 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');
const skip =
  existsSync(CHROMIUM) && existsSync(MERMAID)
    ? false
    : `skipped: needs ${CHROMIUM} (apt-get install chromium) and the mermaid dev dependency`;

let browser: Browser | null = null;
let page: Page;
before(async () => {
  if (skip) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  page = await browser.newPage();
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ content: await readFile(MERMAID, 'utf8') });
  await page.evaluate(() =>
    (globalThis as unknown as { mermaid: { initialize(o: object): void } }).mermaid.initialize({
      startOnLoad: false,
      securityLevel: 'strict',
    }),
  );
});
after(() => browser?.close());

let renders = 0;

/** Mermaid's verdict: null when it parses (and renders), else its error message. */
function mermaidCheck(src: string, render: boolean): Promise<string | null> {
  return page.evaluate(
    async ({ src, render, id }) => {
      const m = (
        globalThis as unknown as {
          mermaid: { parse(s: string): Promise<unknown>; render(id: string, s: string): Promise<{ svg: string }> };
        }
      ).mermaid;
      try {
        await m.parse(src);
        if (render) {
          const { svg } = await m.render(id, src);
          if (!svg.includes('<svg')) return 'no svg';
        }
        return null;
      } catch (err) {
        return String((err as Error).message ?? err);
      }
    },
    { src, render, id: `c${++renders}` },
  );
}

test('every Mermaid block of the largest report parses and renders in Mermaid itself', { skip }, async () => {
  const dir = await tempDir('mermaid-');
  await writeMetricsFixture(dir, {
    features: 30,
    bins: 40,
    names: ['date.hour', 'a"b', 'x`y%%z', ...Array.from({ length: 9 }, (_, i) => `feature_${i}`)],
  });
  const drift = (await readMetrics('dataDrift', { dir: dir }))!;
  const md = chartSections(await loadChartData(dir), drift, null)
    .map((s) => s.markdown)
    .join('\n');
  const blocks = [...md.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 10, `${blocks.length} blocks`);
  for (const b of blocks) assert.equal(await mermaidCheck(b, true), null, b.split('\n')[2]);
});

test('Mermaid and the grammar checker agree on accepted and rejected diagrams', { skip }, async () => {
  const cases = [
    'xychart-beta\n x-axis "x" ["a", "b"]\n y-axis "y" 0 --> 1\n bar "s" [0.5, 1]',
    'xychart-beta\n x-axis 0 --> 100\n line [0, .5, 1]',
    'xychart-beta\n title "T"\n line "a b" [+1, -2]',
    'xychart-beta\n line "t" [1, , 2]',
    'xychart-beta\n line "t" [1e3, 2]',
    'xychart-beta\n x-axis "x" ["a" "b"]\n bar [1, 2]',
    'xychart-beta\n y-axis "y" [1, 2]\n bar [1, 2]',
    'xychart-beta\n line "t"',
  ];
  for (const src of cases) {
    let ours: string | null = null;
    try {
      parseXychart(src);
    } catch (err) {
      ours = (err as Error).message;
    }
    const theirs = await mermaidCheck(src, false);
    assert.equal(
      ours === null,
      theirs === null,
      `${JSON.stringify(src)}: checker ${ours ?? 'accepts'}, Mermaid ${theirs ?? 'accepts'}`,
    );
  }
});
