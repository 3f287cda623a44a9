/**
 * The documentation stays a guide that leads somewhere: the README is at most 300 lines (reference
 * material and measurements belong in docs/), and every relative link of the project's Markdown
 * points at a file that exists and, when it names an #anchor, at a heading that file has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { headingAnchors, markdownLinks } from './testing/markdown.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const README_MAX_LINES = 300;

/** Every Markdown file in git (the README, docs/ and each folder's README). */
const markdownFiles = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.md'], {
  cwd: REPO,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f && !f.includes('node_modules/') && existsSync(join(REPO, f)));

test('the README is a guide of at most 300 lines', () => {
  const lines = readFileSync(join(REPO, 'README.md'), 'utf8').replace(/\n$/, '').split('\n').length;
  assert.ok(
    lines <= README_MAX_LINES,
    `README.md has ${lines} lines (at most ${README_MAX_LINES}): move reference material to a docs/ page and link it`,
  );
});

test('the files checked include the README and the docs pages', () => {
  assert.ok(markdownFiles.includes('README.md'));
  assert.ok(markdownFiles.filter((f) => f.startsWith('docs/')).length >= 10, markdownFiles.join(' '));
});

test('every relative link in the Markdown points at an existing file and heading', () => {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let a = anchorsOf.get(file);
    if (!a) anchorsOf.set(file, (a = headingAnchors(readFileSync(join(REPO, file), 'utf8'))));
    return a;
  };
  const broken: string[] = [];
  for (const file of markdownFiles) {
    for (const { target, line } of markdownLinks(readFileSync(join(REPO, file), 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …: not a file of this repository
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
      const where = `${file}:${line}: (${target})`;
      if (relative(REPO, join(REPO, resolved)).startsWith('..')) broken.push(`${where} leaves the repository`);
      else if (!existsSync(join(REPO, resolved))) broken.push(`${where} → ${resolved} does not exist`);
      else if (anchor && resolved.endsWith('.md') && statSync(join(REPO, resolved)).isFile()) {
        if (!anchors(resolved).has(anchor)) broken.push(`${where} → ${resolved} has no heading #${anchor}`);
      }
    }
  }
  assert.deepEqual(broken, [], 'fix or remove these links');
});
