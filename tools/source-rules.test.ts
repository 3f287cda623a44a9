/** Rules across the repository's sources that no single module's test can see. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importCycles, metricsJsonParses, readSources, relativeImports, splitComments } from './testing/repo-sources.ts';

const sources = await readSources();

test('the scanners find what they look for (and not in comments or strings)', () => {
  const text = [
    "import { a } from './a.ts'; // import { z } from './z.ts'",
    "const t = await readFile(join(root, 'metrics/evaluate.json'), 'utf8');",
    'const ev = JSON.parse(t);',
    "const reg = JSON.parse(await readFile(REGISTER_METRICS, 'utf8'));",
    "const cfg = JSON.parse(await readFile('package.json', 'utf8'));",
    "const s = '// not a comment'; /* JSON.parse(readFile('metrics/x.json')) */",
    "export * from '../b/c.ts';",
    "import type { T } from './types.ts';",
    "const lazy = await import('../lazy.ts');",
  ].join('\n');
  assert.deepEqual(metricsJsonParses(text), [3, 4]);
  assert.deepEqual(relativeImports({ path: 'core/x/y.ts', text }), ['core/b/c.ts', 'core/lazy.ts', 'core/x/a.ts', 'core/x/types.ts']);
  assert.deepEqual(relativeImports({ path: 'core/x/y.ts', text }, { types: false }), ['core/b/c.ts', 'core/lazy.ts', 'core/x/a.ts']);
  assert.deepEqual(splitComments(text).comments.map((c) => c.trim()), ["import { z } from './z.ts'", "JSON.parse(readFile('metrics/x.json'))"]);
  const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a', 'd']], ['d', []], ['e', ['e']]]);
  assert.deepEqual(importCycles(graph), [['a', 'b', 'c'], ['e']]);
  assert.deepEqual(importCycles(new Map([['a', ['b']], ['b', []]])), []);
});

/**
 * Known readers not yet moved onto core/metrics-files.ts: each entry says why. training/stages/train.ts
 * reads the experiment log itself (readExperiments); `readMetricsFile(repoRoot, 'experiments')` replaces it.
 */
const NOT_YET = new Set(['training/stages/train.ts']);

test('metrics files and bundle.json are parsed only by core/metrics-files.ts (outside tests)', () => {
  const offenders = sources
    .filter((f) => f.path !== 'core/metrics-files.ts' && !f.path.endsWith('.test.ts') && !NOT_YET.has(f.path))
    .flatMap((f) => metricsJsonParses(f.text).map((line) => `${f.path}:${line}`));
  assert.deepEqual(offenders, [], 'read these through readMetricsFile / readMetricsFileIn / parseMetricsText / readBundleMeta of core/metrics-files.ts');
  for (const path of NOT_YET) assert.ok(sources.some((f) => f.path === path && metricsJsonParses(f.text).length), `${path} no longer parses a metrics file itself: drop it from NOT_YET`);
});

test('core/ has no import cycles (type-only imports, erased at run time, aside)', () => {
  const core = sources.filter((f) => f.path.startsWith('core/'));
  const graph = new Map(core.map((f) => [f.path, relativeImports(f, { types: false })]));
  assert.deepEqual(importCycles(graph).map((c) => c.join(' → ')), []);
});
