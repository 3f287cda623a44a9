/**
 * `npm run docs:screenshots`: docs/comment-commit.png and docs/comment-pr.png, the report comment
 * as GitHub shows it, made from the committed metrics/ by the same code the workflows run.
 * Markdown → HTML with `marked` (GitHub-flavoured: tables, raw <details>/<sub>), GitHub's own
 * Markdown stylesheet (github-markdown-css), Mermaid blocks drawn by the `mermaid` package, in
 * headless Chromium. Image URLs at the commit (github.com/…/blob/<sha>/…?raw=true) are answered
 * from metrics/report/ on disk, which is what GitHub serves at that commit; nothing goes online.
 * Needs Debian's chromium and an emoji font (apt-get install chromium fonts-noto-color-emoji).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { marked } from 'marked';
import { chromium } from 'playwright-core';
import { buildComment } from '../.github/scripts/publish-report.ts';
import { parseEvent } from '../.github/scripts/event.ts';
import { isMain } from '../core/platform/is-main.ts';
import { defineCli } from '../core/platform/cli.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const REPO = 'your-org/gitops-ml';
const WIDTH = 860;
/** Screenshots stop after this many CSS pixels (headline, gates, drift and the first charts). */
const MAX_HEIGHT = 2600;

const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

/** The previous committed evaluate.json, as the "base" a PR or push compares with. */
async function baseMetrics(): Promise<string | null> {
  const revs = git('log', '--format=%H', '-n', '2', '--', 'metrics/evaluate.json').split('\n').filter(Boolean);
  if (revs.length < 2) return null;
  const dir = await mkdtemp(join(tmpdir(), 'screenshot-base-'));
  await writeFile(join(dir, 'evaluate.json'), git('show', `${revs[1]}:metrics/evaluate.json`));
  return dir;
}

/** GitHub's comment frame around the rendered Markdown (light theme). */
export function commentPage(markdown: string, title: string): string {
  const body = marked.parse(
    markdown.replace(
      /```mermaid\n([\s\S]*?)\n```/g,
      (_m, src: string) => `<pre class="mermaid">${src.replace(/</g, '&lt;')}</pre>`,
    ),
    { gfm: true, async: false },
  ) as string;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<style>
  body { margin: 0; padding: 16px; background: #fff; font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
  .comment { border: 1px solid #d0d7de; border-radius: 6px; max-width: ${WIDTH - 34}px; }
  .header { background: #f6f8fa; border-bottom: 1px solid #d0d7de; padding: 8px 16px; font-size: 14px; color: #57606a; border-radius: 6px 6px 0 0; }
  .header b { color: #1f2328; }
  .bot { border: 1px solid #d0d7de; border-radius: 2em; padding: 0 7px; font-size: 12px; margin-left: 4px; }
  .markdown-body { padding: 16px; font-size: 14px; }
  pre.mermaid { background: none; text-align: center; }
</style></head><body>
<div class="comment"><div class="header"><b>github-actions</b><span class="bot">bot</span> ${title}</div>
<article class="markdown-body">${body}</article></div></body></html>`;
}

async function compose(kind: 'push' | 'pull_request', sha: string, base: string | null): Promise<string> {
  const payload =
    kind === 'push'
      ? { ref: 'refs/heads/model', after: sha, before: '0'.repeat(40), sender: { login: 'ada' } }
      : {
          number: 42,
          pull_request: {
            head: { sha, ref: 'feature/more-data', repo: { full_name: 'ada/gitops-ml' } },
            base: { ref: 'model', repo: { full_name: REPO } },
          },
        };
  const env = {
    GITHUB_REPOSITORY: REPO,
    GITHUB_SERVER_URL: 'https://github.com',
    REPORT_SHA: kind === 'push' ? sha : '',
    ...(base ? { BASE_METRICS_DIR: base, BASE_LABEL: kind === 'push' ? 'previous run' : 'base `model`' } : {}),
  };
  return buildComment(parseEvent(kind, payload), env, ROOT, async () => {
    throw new Error('no base branch here');
  });
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium`);
  // Without a colour emoji font Chromium draws the report's ✅ and ⚠️ as empty boxes, silently.
  let fonts = '';
  try {
    fonts = execFileSync('fc-list', [':charset=2705'], { encoding: 'utf8' });
  } catch {
    /* no fontconfig: said below */
  }
  if (!/emoji/i.test(fonts))
    throw new Error('no colour emoji font (fc-list finds none for ✅): apt-get install fonts-noto-color-emoji');
  if (!existsSync(join(ROOT, 'metrics', 'evaluate.json')))
    throw new Error('metrics/evaluate.json not found: run the pipeline first (npm run pipeline:start)');
  const sha = git('rev-parse', 'HEAD');
  const base = await baseMetrics();
  const mermaidJs = await readFile(join(ROOT, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js'), 'utf8');
  const css = await readFile(join(ROOT, 'node_modules', 'github-markdown-css', 'github-markdown-light.css'), 'utf8');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const shots = [
      { kind: 'push' as const, file: 'comment-commit.png', title: `commented on commit ${sha.slice(0, 7)}` },
      { kind: 'pull_request' as const, file: 'comment-pr.png', title: 'commented on pull request #42 (from a fork)' },
    ];
    await mkdir(join(ROOT, 'docs'), { recursive: true });
    for (const shot of shots) {
      const markdown = await compose(shot.kind, sha, base);
      const page = await browser.newPage({ viewport: { width: WIDTH, height: 800 }, deviceScaleFactor: 1 });
      // What github.com serves for blob/<sha>/<path>?raw=true is that file of the commit: here, the checkout.
      await page.route(/^https:\/\/github\.com\//, async (route) => {
        const m = new RegExp(`^https://github\\.com/${REPO}/blob/${sha}/([A-Za-z0-9._/-]+)\\?raw=true$`).exec(
          route.request().url(),
        );
        const path = m && !m[1].includes('..') ? join(ROOT, m[1]) : null;
        if (path && existsSync(path)) return route.fulfill({ contentType: 'image/png', body: await readFile(path) });
        return route.fulfill({ status: 404, body: '' });
      });
      // Everything else (CML's watermark image) stays offline: an empty image, as a blocked image shows.
      await page.route(/^https?:\/\/(?!github\.com\/)/, (route) => route.fulfill({ status: 404, body: '' }));
      await page.setContent(commentPage(markdown, shot.title), { waitUntil: 'load' });
      await page.addStyleTag({ content: css });
      await page.addScriptTag({ content: mermaidJs });
      await page.evaluate(async () => {
        const m = (globalThis as unknown as { mermaid: { initialize(o: object): void; run(o: object): Promise<void> } })
          .mermaid;
        m.initialize({ startOnLoad: false, theme: 'default', securityLevel: 'strict' });
        await m.run({ querySelector: 'pre.mermaid' });
      });
      await page.waitForLoadState('networkidle');
      const height = Math.min(MAX_HEIGHT, await page.evaluate(() => document.body.scrollHeight));
      await page.setViewportSize({ width: WIDTH, height });
      const png = await page.screenshot({ clip: { x: 0, y: 0, width: WIDTH, height }, type: 'png' });
      await writeFile(join(ROOT, 'docs', shot.file), png);
      console.log(
        `docs/${shot.file}: ${WIDTH}×${height} px, ${(png.length / 1024).toFixed(0)} KiB (comment ${markdown.length.toLocaleString('en-US')} characters)`,
      );
      await page.close();
    }
  } finally {
    await browser.close();
  }
}

const USAGE = `usage: npm run docs:screenshots
  docs/comment-commit.png and docs/comment-pr.png: the report comment as GitHub shows it, made from
  the committed metrics/ in headless Chromium (needs /usr/bin/chromium and an emoji font); nothing goes online`;

if (isMain(import.meta.url)) await defineCli({ name: 'docs:screenshots', usage: USAGE }, () => main()).main();
