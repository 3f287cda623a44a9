import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryLogger } from '../../core/platform/log.ts';
import { initDvcRepo } from '../../core/dvc/index.ts';
import { pipelineArtifacts, PIPELINE_STAGES } from '../contracts/index.ts';
import { readModelName } from '../../core/schemas/params.ts';
import { generatePipeline, importClosure } from './generate.ts';
import { main } from './cli.ts';
import { commitPipeline, type PipelineResult } from './runner.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const PIPELINE_ARTIFACTS = pipelineArtifacts((await readModelName(join(REPO, 'params.yaml')))!);

test('dvc.yaml is exactly what the stage contracts generate (run `npm run pipeline:gen` after changing a stage, its imports or its params)', async () => {
  const generated = await generatePipeline(REPO, PIPELINE_STAGES, PIPELINE_ARTIFACTS);
  assert.equal(await readFile(join(REPO, 'dvc.yaml'), 'utf8'), generated);
});

test('importClosure follows relative imports, dynamic ones and worker scripts too, but not type-only imports or packages', async () => {
  const dir = await tempDir('closure-');
  const files: Record<string, string> = {
    'a.ts': `import { b } from './lib/b.ts';\nimport type { C } from './c.ts';\nimport { z } from 'zod';\nexport const a: C = { n: b + z.string().parse('x').length };\nexport const later = () => import('./lazy.ts');\n`,
    'lib/b.ts': `import '../side.ts';\nexport const b = 1;\n`,
    'side.ts': `globalThis.touched = true;\n`,
    'c.ts': `export interface C { n: number }\n`,
    'lazy.ts': `export const lazy = 1;\n`,
    'unused.ts': `export const unused = 1;\n`,
    'pool.ts': `import { Worker } from 'node:worker_threads';\nexport const start = () => new Worker(new URL('./work/w.ts', import.meta.url));\n`,
    'work/w.ts': `import { b } from '../lib/b.ts';\nimport { w2 } from './w2.ts';\nexport const w = b + w2;\n`,
    'work/w2.ts': `export const w2 = 2;\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  assert.deepEqual(await importClosure(dir, 'a.ts'), ['a.ts', 'lazy.ts', 'lib/b.ts', 'side.ts']);
  // A worker thread's script and what it imports are the stage's code too.
  assert.deepEqual(await importClosure(dir, 'pool.ts'), ['lib/b.ts', 'pool.ts', 'side.ts', 'work/w.ts', 'work/w2.ts']);
  await assert.rejects(importClosure(dir, 'missing.ts'), /cannot follow the imports of missing\.ts/);
});

test('no stage imports another stage: every path a stage shares comes from training/contracts', async () => {
  for (const stage of PIPELINE_STAGES) {
    const others = (await importClosure(REPO, stage.entry)).filter(
      (f) => f.startsWith('training/stages/') && f !== stage.entry,
    );
    assert.deepEqual(others, [], `stage '${stage.name}' imports ${others.join(', ')}`);
  }
});

/** Dummy bytes at every declared input and output, so the pipeline can be recorded as it stands. */
async function fillData(root: string): Promise<void> {
  const paths = PIPELINE_STAGES.flatMap((s) => [...s.outputs.map((o) => o.path), ...s.inputs]);
  for (const p of paths) {
    const abs = join(root, p);
    if (extname(p)) {
      await mkdir(dirname(abs), { recursive: true });
      await writeFile(abs, '{}\n', { flag: 'a' });
    } else {
      await mkdir(abs, { recursive: true });
      await writeFile(join(abs, 'placeholder'), 'x\n');
    }
  }
}

async function dryRun(root: string): Promise<Map<string, PipelineResult['stages'][number]>> {
  let out = '';
  const code = await main(['--dry', '--json'], { cwd: root, log: memoryLogger(), write: (t) => (out += t) });
  assert.equal(code, 0);
  return new Map((JSON.parse(out) as PipelineResult).stages.map((s) => [s.name, s]));
}

test('a change to any file a stage imports, or to a param it reads, makes it (and what follows) run: `npm run pipeline -- --dry` in a copy', async () => {
  const root = await tempDir('contracts-');
  for (const dir of ['core', 'training'])
    await cp(join(REPO, dir), join(root, dir), { recursive: true, filter: (src) => !src.includes('node_modules') });
  await cp(join(REPO, 'params.yaml'), join(root, 'params.yaml'));
  await writeFile(join(root, 'dvc.yaml'), await generatePipeline(root, PIPELINE_STAGES, PIPELINE_ARTIFACTS));
  await initDvcRepo(root);
  await fillData(root);
  const names = PIPELINE_STAGES.map((s) => s.name);
  assert.deepEqual(await commitPipeline({ repoRoot: root, log: memoryLogger() }), names);
  for (const s of (await dryRun(root)).values())
    assert.equal(s.status, 'skipped', `${s.name}: ${s.reasons.join('; ')}`);

  // A comment in a core file only validate imports directly still reaches every later stage.
  const parquet = join(root, 'core/data/parquet.ts');
  const original = await readFile(parquet, 'utf8');
  await appendFile(parquet, '// a comment\n');
  const touched = await dryRun(root);
  for (const name of names) assert.equal(touched.get(name)!.status, 'would-run', name);
  assert.ok(
    touched.get('validate')!.reasons.includes("dep 'core/data/parquet.ts' changed"),
    touched.get('validate')!.reasons.join('; '),
  );
  await writeFile(parquet, original);
  for (const s of (await dryRun(root)).values()) assert.equal(s.status, 'skipped', s.name);

  // profile.bins: read by prepare (the whole `profile` section) and by train (the prediction histogram).
  const params = await readFile(join(root, 'params.yaml'), 'utf8');
  assert.match(params, /\n {2}bins: 20 /);
  await writeFile(join(root, 'params.yaml'), params.replace(/\n {2}bins: 20 /, '\n  bins: 30 '));
  const binned = await dryRun(root);
  assert.equal(binned.get('validate')!.status, 'skipped');
  assert.ok(
    binned.get('prepare')!.reasons.includes("param 'profile.bins' changed (20 -> 30)"),
    binned.get('prepare')!.reasons.join('; '),
  );
  assert.ok(
    binned.get('train')!.reasons.includes("param 'profile.bins' changed (20 -> 30)"),
    binned.get('train')!.reasons.join('; '),
  );
  for (const name of names.slice(1)) assert.equal(binned.get(name)!.status, 'would-run', name);
});
