/**
 * Crash safety of the local backend, proven with real processes: a child registers (or
 * promotes), is SIGKILLed at each point inside the write or at random moments, and the registry
 * must still be consistent (every listed version complete and verifiable, pointers valid,
 * history replayable) and usable (the dead writer's lock is recovered).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryLogger } from '../platform/log.ts';
import type { FaultPoint } from './backend.ts';
import { openRegistry, type Registry } from './registry.ts';
import { makeBundle } from './testing/helpers.ts';
import { seededRandom } from '../platform/random.ts';
import { stopChild, tempDir, watchOutput, type ChildOutput } from '../../harness/testing/lifecycle.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const CHILD = join(HERE, 'testdata', 'crash-child.ts');
const who = { actor: 'test', source: 'test', reason: 'crash test' };

interface Child extends ChildOutput {
  proc: ChildProcess;
}

function startChild(args: Record<string, unknown>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { proc, ...watchOutput(proc) };
}

/** SIGKILL, resolved once the child is reaped: its pid is then really gone. */
async function kill(child: Child): Promise<void> {
  await stopChild(child.proc, { signal: 'SIGKILL' });
}

async function bigBundle(dir: string, files: number, bytes: number): Promise<string> {
  return makeBundle(
    dir,
    Object.fromEntries(Array.from({ length: files }, (_, i) => [`weights/shard-${i}.bin`, randomBytes(bytes)])),
  );
}

async function assertConsistent(registry: Registry, model: string): Promise<void> {
  const report = await registry.verify(model);
  assert.deepEqual(report.problems, [], 'every version complete and verifiable, history replays to the stages');
  const state = await registry.state(model);
  for (const v of Object.values(state.stages))
    assert.ok(v >= 1 && v <= state.versions, `stage points at v${v} of ${state.versions}`);
  const history = await registry.history(model);
  assert.deepEqual(
    history.map((e) => e.seq),
    history.map((_, i) => i + 1),
  );
}

async function leftovers(root: string): Promise<string[]> {
  const names = [...(await readdir(join(root, 'models'))), ...(await readdir(join(root, 'bundles', 'm')))];
  return names.filter((n) => n.startsWith('.'));
}

const POINTS: FaultPoint[] = [
  'bundle:partial',
  'bundle:copied',
  'bundle:stored',
  'state:locked',
  'state:written',
  'state:committed',
];

test('SIGKILL at every point of a registration leaves a consistent, usable registry', async () => {
  for (const point of POINTS) {
    const dir = await tempDir('registry-crash-');
    const root = join(dir, 'reg');
    const bundle = await bigBundle(join(dir, 'bundle'), 6, 1 << 20);
    const registry = await openRegistry(root, { log: memoryLogger(), env: {} });
    await registry.register('m', await makeBundle(join(dir, 'small'), { 'model.json': '{}' }), {}, who);
    await registry.setStage('m', 'production', 1, who);

    const child = startChild({ registry: root, model: 'm', bundle, op: 'register', pauseAt: point });
    await child.waitForLine(new RegExp(`^PAUSED ${point}$`));
    await kill(child);

    const lockPath = join(root, 'models', 'm.json.lock');
    const lockLeft = await readFile(lockPath, 'utf8').then(
      (t) => JSON.parse(t).pid as number,
      () => null,
    );
    assert.equal(lockLeft, point.startsWith('state:') ? child.proc.pid : null, `${point}: lock left by the dead child`);

    const after = await openRegistry(root, { log: memoryLogger(), env: {}, lock: { timeoutMs: 5000 } });
    await assertConsistent(after, 'm');
    const committed = point === 'state:committed';
    assert.deepEqual(
      (await after.listVersions('m')).map((v) => v.version),
      committed ? [1, 2] : [1],
      point,
    );
    assert.equal((await after.getStage('m', 'production'))?.version, 1, point);
    assert.equal((await after.history('m')).length, committed ? 3 : 2, point);

    // Usable: the dead writer's lock is recovered, leftovers are swept, new writes land.
    const next = await after.register('m', bundle, {}, who);
    assert.equal(next.version, committed ? 3 : 2);
    await after.setStage('m', 'production', next.version, who);
    await assertConsistent(after, 'm');
    assert.deepEqual(await leftovers(root), [], `${point}: temporary files are gone`);
    await assert.rejects(
      readFile(lockPath),
      { code: 'ENOENT' },
      `${point}: the stale lock was recovered and the new one released`,
    );
  }
});

test('SIGKILL in the middle of a promotion keeps the old pointer and history', async () => {
  const dir = await tempDir('registry-crash-');
  const root = join(dir, 'reg');
  const registry = await openRegistry(root, { log: memoryLogger(), env: {} });
  const bundle = await makeBundle(join(dir, 'b'), { 'model.json': '{}' });
  await registry.register('m', bundle, {}, who);
  await registry.register('m', bundle, {}, who);
  await registry.setStage('m', 'production', 1, who);
  const child = startChild({
    registry: root,
    model: 'm',
    bundle,
    op: 'promote',
    version: 2,
    stage: 'production',
    pauseAt: 'state:written',
  });
  await child.waitForLine(/^PAUSED state:written$/);
  await kill(child);
  const after = await openRegistry(root, { log: memoryLogger(), env: {}, lock: { timeoutMs: 5000 } });
  assert.equal((await after.getStage('m', 'production'))?.version, 1);
  assert.equal((await after.history('m')).length, 3);
  await assertConsistent(after, 'm');
  assert.equal((await after.setStage('m', 'production', 2, who)).to, 2);
  await assertConsistent(after, 'm');
});

/**
 * The seed of the random kill moments: TEST_SEED when set (to replay a failure), else a fresh one,
 * so runs keep exploring different moments; every failure message names it.
 */
function killSeed(): number {
  const given = process.env.TEST_SEED;
  if (given === undefined || given === '') return randomInt(2 ** 31);
  const seed = Number(given);
  if (!Number.isSafeInteger(seed)) throw new Error(`TEST_SEED must be an integer, got ${JSON.stringify(given)}`);
  return seed;
}

test('SIGKILL at random moments of a register/promote loop never corrupts the registry', async (t) => {
  const seed = killSeed();
  t.diagnostic(`kill moments from TEST_SEED=${seed}`);
  const random = seededRandom(seed);
  const moments: string[] = [];
  try {
    const dir = await tempDir('registry-crash-');
    const root = join(dir, 'reg');
    const bundle = await bigBundle(join(dir, 'bundle'), 4, 1 << 20);
    let versions = 0;
    for (let round = 0; round < 5; round++) {
      const delayMs = Math.round(20 + random() * 150);
      moments.push(`round ${round}: ${delayMs} ms`);
      const child = startChild({ registry: root, model: 'm', bundle, op: 'loop' });
      await child.waitForLine(/^REGISTERED/); // at least one full step per round, then a random moment
      await new Promise((r) => setTimeout(r, delayMs));
      await kill(child);
      const registry = await openRegistry(root, { log: memoryLogger(), env: {}, lock: { timeoutMs: 5000 } });
      await assertConsistent(registry, 'm');
      const state = await registry.state('m');
      // Every version the child reported is there; at most one more (committed, killed before printing).
      const reported = Math.max(
        ...child.lines.filter((l) => l.startsWith('REGISTERED')).map((l) => Number(l.split(' ')[1])),
      );
      assert.ok(
        state.versions >= reported && state.versions <= reported + 1,
        `round ${round}: ${state.versions} versions, child reported v${reported}`,
      );
      assert.ok(state.versions > versions);
      versions = state.versions;
    }
    const registry = await openRegistry(root, { log: memoryLogger(), env: {}, lock: { timeoutMs: 5000 } });
    const v = await registry.register('m', bundle, {}, who);
    await registry.setStage('m', 'production', v.version, who);
    await assertConsistent(registry, 'm');
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\nkill moments (after the first REGISTERED) ${moments.join(', ')}; replay with TEST_SEED=${seed}`,
      { cause: err },
    );
  }
});

test('several processes registering and promoting at once lose no update', async () => {
  const dir = await tempDir('registry-crash-');
  const root = join(dir, 'reg');
  const bundle = await makeBundle(join(dir, 'b'), { 'model.json': '{"w": 1}' });
  const children = [0, 1, 2].map(() => startChild({ registry: root, model: 'm', bundle, op: 'batch', count: 4 }));
  await Promise.all(children.map((c) => c.waitForLine(/^DONE$/)));
  const registry = await openRegistry(root, { log: memoryLogger(), env: {} });
  const versions = await registry.listVersions('m');
  assert.deepEqual(
    versions.map((v) => v.version),
    Array.from({ length: 12 }, (_, i) => i + 1),
  );
  const perChild = new Map<unknown, number>();
  for (const v of versions) perChild.set(v.extra.pid, (perChild.get(v.extra.pid) ?? 0) + 1);
  assert.deepEqual([...perChild.values()], [4, 4, 4]);
  const history = await registry.history('m');
  assert.equal(history.length, 24);
  assert.deepEqual(history.filter((e) => e.type === 'promote').length, 12);
  await assertConsistent(registry, 'm');
});
