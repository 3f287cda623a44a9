import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerRerun } from './register-rerun.ts';
import { openRegistry } from '../core/registry/index.ts';
import { makeBundle } from '../core/registry/testing/helpers.ts';
import { memoryLogger } from '../core/platform/log.ts';
import { readModelName } from '../core/schemas/params.ts';
import { tempDir } from '../harness/testing/lifecycle.ts';

const COMMITTED = fileURLToPath(new URL('../metrics/register.json', import.meta.url));
const PARAMS = fileURLToPath(new URL('../params.yaml', import.meta.url));

/** A repo whose last register run decided `decision` (the committed file, that field changed). */
async function repoWith(decision: string | null): Promise<string> {
  const repo = await tempDir('register-rerun-');
  if (decision === null) return repo;
  const last = JSON.parse(await readFile(COMMITTED, 'utf8')) as Record<string, unknown>;
  await mkdir(join(repo, 'metrics'), { recursive: true });
  await writeFile(join(repo, 'metrics', 'register.json'), JSON.stringify({ ...last, decision, version: 3 }));
  return repo;
}

test('npm start runs register again after a pipeline:start that could only register a candidate', async () => {
  const rerun = await registerRerun(await repoWith('candidate'), { REGISTER_PROMOTE: 'allow' });
  assert.deepEqual(Object.keys(rerun), ['register']);
  assert.match(rerun.register, /v3 was registered as a candidate only; .*REGISTER_PROMOTE=allow/);
});

test('register is left alone when its decision would not change or nothing was registered', async () => {
  // The same environment that made it a candidate: the same decision again.
  assert.deepEqual(await registerRerun(await repoWith('candidate'), {}), {});
  assert.deepEqual(await registerRerun(await repoWith('candidate'), { REGISTER_PROMOTE: 'never' }), {});
  // Decisions the environment did not shape.
  for (const decision of ['promoted', 'staging', 'rejected'])
    assert.deepEqual(await registerRerun(await repoWith(decision), { REGISTER_PROMOTE: 'allow' }), {}, decision);
  assert.deepEqual(await registerRerun(await repoWith(null), { REGISTER_PROMOTE: 'allow' }), {}, 'no register.json');
});

/** A repo like a clone whose outputs came back with data:pull: the committed params, register.json saying `version`. */
async function pulledClone(version: number, decision = 'promoted'): Promise<string> {
  const repo = await repoWith(decision);
  const last = JSON.parse(await readFile(join(repo, 'metrics', 'register.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(repo, 'metrics', 'register.json'), JSON.stringify({ ...last, version }));
  await copyFile(PARAMS, join(repo, 'params.yaml'));
  return repo;
}

test('npm start registers again when the local registry lacks the version its last run recorded', async () => {
  const model = await readModelName(PARAMS);
  assert.ok(model);
  // A clone: every stage up to date, registry/ (not in git) absent.
  const repo = await pulledClone(1);
  for (const env of [{ REGISTER_PROMOTE: 'allow' }, {}]) {
    const rerun = await registerRerun(repo, env);
    assert.deepEqual(Object.keys(rerun), ['register']);
    assert.match(rerun.register, new RegExp(`holds no ${model}, which its last run registered as v1`));
  }
  // The registry holds v1 (as after that rerun): nothing to do; v2 recorded but missing: register again.
  const registry = await openRegistry('registry', { baseDir: repo, log: memoryLogger() });
  const bundle = await makeBundle(join(repo, 'bundle'), { 'a.txt': 'model\n' });
  await registry.register(model, bundle, {}, { actor: 'test', source: 'pipeline' });
  assert.deepEqual(await registerRerun(repo, { REGISTER_PROMOTE: 'allow' }), {});
  const ahead = await pulledClone(2);
  await cp(join(repo, 'registry'), join(ahead, 'registry'), { recursive: true });
  assert.match((await registerRerun(ahead, {})).register ?? '', new RegExp(`holds no ${model} v2`));
  // Another registry named by REGISTRY_URL is the one checked; a bucket is not (no network here).
  assert.deepEqual(Object.keys(await registerRerun(repo, { REGISTRY_URL: 'elsewhere' })), ['register']);
  assert.deepEqual(await registerRerun(ahead, { REGISTRY_URL: 'gs://bucket/registry' }), {});
});

test('npm start leaves a candidate alone once a stage was moved after it was registered (a rollback by hand)', async () => {
  const model = await readModelName(PARAMS);
  assert.ok(model);
  const repo = await pulledClone(2, 'candidate');
  const registry = await openRegistry('registry', { baseDir: repo, log: memoryLogger() });
  for (const i of [1, 2])
    await registry.register(
      model,
      await makeBundle(join(repo, `bundle${i}`), { 'a.txt': `model ${i}\n` }),
      {},
      {
        actor: 'test',
        source: 'pipeline',
      },
    );
  // v2 registered as a candidate, nothing moved since: npm start may assign it.
  assert.deepEqual(Object.keys(await registerRerun(repo, { REGISTER_PROMOTE: 'allow' })), ['register']);
  // Someone promotes v2 by hand and rolls back to v1: that decision stands.
  await registry.setStage(model, 'production', 1, { actor: 'ops', source: 'cli', reason: 'first' });
  await registry.setStage(model, 'production', 2, { actor: 'ops', source: 'cli', reason: 'try' });
  await registry.rollback(model, 'production', { actor: 'ops', source: 'cli', reason: 'restore' });
  assert.deepEqual(await registerRerun(repo, { REGISTER_PROMOTE: 'allow' }), {});
});
