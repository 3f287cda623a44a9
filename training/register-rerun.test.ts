import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerRerun } from './register-rerun.ts';
import { tempDir } from '../harness/testing/lifecycle.ts';

const COMMITTED = fileURLToPath(new URL('../metrics/register.json', import.meta.url));

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
