/** Rules across the repository's sources that no single module's test can see. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  REPO,
  commentPaths,
  importCycles,
  metricsJsonParses,
  readSources,
  relativeImports,
  splitComments,
} from './testing/repo/repo-sources.ts';

const sources = await readSources();

test('the scanners find what they look for (and not in comments or strings)', () => {
  const text = [
    "import { a } from './a.ts'; // import { z } from './z.ts'",
    "const t = await readFile(join(root, 'metrics/evaluate.json'), 'utf8');",
    'const ev = JSON.parse(t);',
    "const reg = JSON.parse(await readFile(REGISTER_METRICS, 'utf8'));",
    "const cfg = JSON.parse(await readFile('package.json', 'utf8'));",
    "const s = '// not a comment'; /* JSON.parse(readFile('metrics/x.json')) */",
    "const spec = JSON.parse(await readFile(join(dir, FEATURE_SPEC_FILE), 'utf8')) as FeatureSpec;",
    "const p = JSON.parse(await readFile(join(path, 'reference-profile.json'), 'utf8'));",
    "export * from '../b/c.ts';",
    "import type { T } from './types.ts';",
    "const lazy = await import('../lazy.ts');",
  ].join('\n');
  assert.deepEqual(metricsJsonParses(text), [3, 4, 7, 8]);
  assert.deepEqual(relativeImports({ path: 'core/x/y.ts', text }), [
    'core/b/c.ts',
    'core/lazy.ts',
    'core/x/a.ts',
    'core/x/types.ts',
  ]);
  assert.deepEqual(relativeImports({ path: 'core/x/y.ts', text }, { types: false }), [
    'core/b/c.ts',
    'core/lazy.ts',
    'core/x/a.ts',
  ]);
  assert.deepEqual(
    splitComments(text).comments.map((c) => c.trim()),
    ["import { z } from './z.ts'", "JSON.parse(readFile('metrics/x.json'))"],
  );
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a', 'd']],
    ['d', []],
    ['e', ['e']],
  ]);
  assert.deepEqual(importCycles(graph), [['a', 'b', 'c'], ['e']]);
  assert.deepEqual(
    importCycles(
      new Map([
        ['a', ['b']],
        ['b', []],
      ]),
    ),
    [],
  );
});

/** The modules that own the schemas of metrics files, bundle.json and the artifact manifests. */
const SCHEMA_MODULES = new Set(['core/schemas/metrics-files.ts', 'core/model/artifact-files.ts']);

test('metrics files, bundle.json and artifact manifests are parsed only through their schema modules (outside tests)', () => {
  const offenders = sources
    .filter((f) => !SCHEMA_MODULES.has(f.path) && !f.path.endsWith('.test.ts'))
    .flatMap((f) => metricsJsonParses(f.text).map((line) => `${f.path}:${line}`));
  assert.deepEqual(
    offenders,
    [],
    'read these through readMetrics / tryReadMetrics / parseMetrics of core/schemas/metrics-files.ts, readBundleMeta of core/schemas/bundle-meta.ts, or readArtifactFile / parseArtifactFile of core/model/artifact-files.ts',
  );
});

test('core/ has no import cycles (type-only imports, erased at run time, aside)', () => {
  const core = sources.filter((f) => f.path.startsWith('core/'));
  const graph = new Map(core.map((f) => [f.path, relativeImports(f, { types: false })]));
  assert.deepEqual(
    importCycles(graph).map((c) => c.join(' → ')),
    [],
  );
});

/** Test tooling that may use `testing/` helpers besides tests: the adversarial runner and the workflow rehearsal. */
const TEST_TOOLING = /^harness\//;

test('testing/ helpers are imported only by tests, other helpers and test tooling', () => {
  const isHelper = (path: string) => path.split('/').includes('testing');
  assert.ok(
    sources.some((f) => isHelper(f.path)),
    'there are testing/ helpers to check',
  );
  const offenders = sources
    .filter((f) => !f.path.endsWith('.test.ts') && !isHelper(f.path) && !TEST_TOOLING.test(f.path))
    .flatMap((f) =>
      relativeImports(f)
        .filter(isHelper)
        .map((h) => `${f.path} imports ${h}`),
    );
  assert.deepEqual(offenders, []);
});

/** Files of other projects that comments cite as sources (the path is inside that project). */
const UPSTREAM = new Set([
  'src/git-directory-helper.ts',
  'src/git-source-provider.ts', // actions/checkout
  'src/main.ts', // google-github-actions/auth
  'dvc/stage/serialize.py',
  'dvc/repo/metrics/show.py', // DVC
  'tests/test_tag.py',
  'tests/test_constants.py',
  'tests/test_api.py',
  'tests/test_registry.py',
  'tests/conftest.py',
  'tests/resources/sample_remote_repo_expected_history_churn.json',
  'gto/constants.py',
  'gto/tag.py',
  'gto/base.py',
  'gto/registry.py', // GTO
]);
/** Folders made at run time and ignored by git (root-anchored .gitignore entries): named in comments, absent on a fresh clone. */
const GENERATED = readFileSync(join(REPO, '.gitignore'), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('/'))
  .map((l) => l.slice(1).replace(/\/$/, ''));

/** `path` as named from `file`: from the repo root, the file's folder or one of its parents (infra/cdktf/main.ts says how to run itself from infra/). */
function resolves(file: string, path: string): boolean {
  const bases: string[] = [''];
  for (let d = dirname(file); d !== '.'; d = dirname(d)) bases.push(d);
  return bases.some((b) => {
    const full = join(b, path);
    return existsSync(join(REPO, full)) || GENERATED.some((g) => full === g || full.startsWith(`${g}/`));
  });
}

test('every repository path a comment names exists (or is made at run time, or is in a cited upstream project)', () => {
  assert.deepEqual(
    commentPaths({
      path: 'x.ts',
      text: '// see core/a.ts, ../b/c.json and api/drift-*.ts; `$CFG/x.json`; REHEARSE_CLOUD/y.json\nconst s = "core/no.ts";',
    }),
    ['../b/c.json', 'core/a.ts'],
  );
  const missing = sources.flatMap((f) =>
    commentPaths(f)
      .filter((p) => !UPSTREAM.has(p) && !/^\w+\/v\d+\w*$/.test(p) && !resolves(f.path, p))
      .map((p) => `${f.path}: ${p}`),
  );
  assert.deepEqual(missing, [], 'fix the comment so it names a file of this repository');
});

test('comments cite nothing outside the repository (issue numbers, planning documents, ../shared)', () => {
  const outside = /\bissues? #?\d+|\b(?:DESIGN|MISSION)\.md\b|\.\.\/shared\//i;
  const cited = sources.flatMap((f) =>
    splitComments(f.text)
      .comments.filter((c) => outside.test(c))
      .map((c) => `${f.path}: ${outside.exec(c)![0]}`),
  );
  assert.deepEqual(cited, [], 'say what is meant, or name the file of this repository that holds it');
});
