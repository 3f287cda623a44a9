/**
 * The architecture as docs/architecture.md draws it, checked against the code: the packages, the
 * imports allowed between them (every import between packages is an arrow of the diagram and
 * every arrow is used), front doors (another package imports only the modules a package's
 * index.ts exports), product code apart from the harness, and no run-time import cycle anywhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, importCycles, readSources, relativeImports, type SourceFile } from './testing/repo/repo-sources.ts';

const sources = await readSources();
const architecture = readFileSync(join(REPO, 'docs', 'architecture.md'), 'utf8');

/** Top-level folders that hold the product; `harness` and `docs` are outside it. */
const PRODUCT_ROOTS = ['api', 'training', 'infra', '.github', 'core'];
/** The packages of core/: each a folder with an index.ts and a README.md. */
const CORE_PACKAGES = ['schemas', 'platform', 'data', 'model', 'drift', 'dvc', 'registry', 'charts'];

const isTestOnly = (path: string) => path.endsWith('.test.ts') || path.split('/').includes('testing');

/** The package a repository path belongs to: a core package (`core/model`) or a top-level folder. */
export function packageOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'core' && parts.length > 2) return `core/${parts[1]}`;
  return parts[0];
}

/** `A --> B` arrows of the first ```mermaid block, node ids mapped to their labels (`core_model["core/model"]`). */
export function diagramEdges(markdown: string): { nodes: Set<string>; edges: Set<string> } {
  const block = /```mermaid\n([\s\S]*?)```/.exec(markdown)?.[1];
  if (!block) throw new Error('docs/architecture.md has no ```mermaid block');
  const labels = new Map<string, string>();
  for (const m of block.matchAll(/\b([\w]+)\["([^"]+)"\]/g)) labels.set(m[1], m[2]);
  const name = (id: string) => labels.get(id) ?? id;
  const nodes = new Set(labels.values());
  const edges = new Set<string>();
  for (const line of block.split('\n')) {
    const m = /^\s*(\w+)(?:\["[^"]+"\])?\s*-->\s*(\w+)(?:\["[^"]+"\])?\s*$/.exec(line);
    if (m) edges.add(`${name(m[1])} --> ${name(m[2])}`);
  }
  return { nodes, edges };
}

/** Package-level imports of product code (tests and test helpers aside), type-only imports included. */
function productEdges(files: SourceFile[]): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const f of files.filter((x) => PRODUCT_ROOTS.includes(x.path.split('/')[0]) && !isTestOnly(x.path))) {
    for (const target of relativeImports(f)) {
      const [from, to] = [packageOf(f.path), packageOf(target)];
      if (from === to) continue;
      const key = `${from} --> ${to}`;
      edges.set(key, [...(edges.get(key) ?? []), `${f.path} imports ${target}`]);
    }
  }
  return edges;
}

test('the diagram parser reads labelled nodes and arrows', () => {
  const md =
    '```mermaid\nflowchart TD\n  api["api"] --> core_model["core/model"]\n  core_model --> core_data["core/data"]\n```\n';
  const { nodes, edges } = diagramEdges(md);
  assert.deepEqual([...nodes].sort(), ['api', 'core/data', 'core/model']);
  assert.deepEqual([...edges].sort(), ['api --> core/model', 'core/model --> core/data']);
  assert.equal(packageOf('core/model/features.ts'), 'core/model');
  assert.equal(packageOf('.github/scripts/tag.ts'), '.github');
});

test('every import between packages is an arrow of docs/architecture.md, and every arrow is used', () => {
  const { edges: drawn } = diagramEdges(architecture);
  const actual = productEdges(sources);
  const undrawn = [...actual.keys()].filter((e) => !drawn.has(e)).map((e) => `${e} (${actual.get(e)![0]})`);
  assert.deepEqual(
    undrawn,
    [],
    'an import the architecture does not allow: remove it, or draw the arrow in docs/architecture.md if it is meant',
  );
  const unused = [...drawn].filter((e) => !actual.has(e));
  assert.deepEqual(unused, [], 'arrows in docs/architecture.md that no import uses: remove them');
});

test('the package graph has no cycle, api never imports training, core imports no other top-level folder', () => {
  const graph = new Map<string, string[]>();
  for (const e of productEdges(sources).keys()) {
    const [from, to] = e.split(' --> ');
    graph.set(from, [...(graph.get(from) ?? []), to]);
    if (!graph.has(to)) graph.set(to, []);
  }
  assert.deepEqual(importCycles(graph), []);
  assert.ok(!graph.get('api')?.includes('training'), 'api imports training');
  for (const [from, tos] of graph) {
    if (from.startsWith('core/'))
      assert.deepEqual(
        tos.filter((t) => !t.startsWith('core/')),
        [],
        `${from} imports outside core/`,
      );
  }
});

test('no run-time import cycle anywhere (type-only imports, erased at run time, aside)', () => {
  const graph = new Map(sources.map((f) => [f.path, relativeImports(f, { types: false })]));
  assert.deepEqual(
    importCycles(graph).map((c) => c.join(' → ')),
    [],
  );
});

test('product code never imports the harness (tests may use its fixtures)', () => {
  const offenders = sources
    .filter((f) => PRODUCT_ROOTS.includes(f.path.split('/')[0]) && !isTestOnly(f.path))
    .flatMap((f) =>
      relativeImports(f)
        .filter((t) => t.startsWith('harness/'))
        .map((t) => `${f.path} imports ${t}`),
    );
  assert.deepEqual(offenders, []);
});

/** Modules a package's index.ts re-exports from (its public modules). */
function frontDoor(pkg: string): Set<string> {
  const index = sources.find((f) => f.path === `${pkg}/index.ts`);
  if (!index) return new Set();
  return new Set([`${pkg}/index.ts`, ...relativeImports(index)]);
}

test('each core package has a front door (index.ts) and a README; other packages import only what it exports', () => {
  const missing = CORE_PACKAGES.flatMap((p) =>
    ['index.ts', 'README.md'].filter((f) => !existsSync(join(REPO, 'core', p, f))).map((f) => `core/${p}/${f}`),
  );
  assert.deepEqual(missing, []);
  const offenders = sources
    .filter((f) => PRODUCT_ROOTS.includes(f.path.split('/')[0]) && !isTestOnly(f.path))
    .flatMap((f) =>
      relativeImports(f)
        .filter((t) => t.startsWith('core/') && packageOf(t) !== packageOf(f.path) && !frontDoor(packageOf(t)).has(t))
        .map((t) => `${f.path} imports ${t}, which ${packageOf(t)}/index.ts does not export`),
    );
  assert.deepEqual(offenders, [], 'export the module from its index.ts (making it public), or use a public one');
});

test('every top-level folder says what lives there and what may import it', () => {
  for (const dir of ['api', 'training', 'infra', '.github', 'core', 'harness', 'metrics', 'docs']) {
    const readme = join(REPO, dir, 'README.md');
    assert.ok(existsSync(readme), `${dir}/README.md is missing`);
    if (!['metrics', 'docs'].includes(dir)) {
      assert.match(
        readFileSync(readme, 'utf8'),
        /may import|imported by|imports/i,
        `${dir}/README.md: say what it may import`,
      );
    }
  }
});
