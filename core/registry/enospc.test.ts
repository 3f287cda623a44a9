/**
 * A full disk at each write of a registration (the fault hook throws ENOSPC where the crash test
 * pauses): the error names the path, nothing is left behind, and the next registration neither
 * needs room for a second copy of what is stored nor fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../platform/log.ts';
import type { FaultPoint } from './backend.ts';
import { LocalRegistryBackend } from './local-backend.ts';
import { Registry, openRegistry } from './registry.ts';
import { makeBundle } from './testing/helpers.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const who = { actor: 'test', source: 'test', reason: 'enospc test' };

function noSpace(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), { code: 'ENOSPC', path });
}

async function bundleOf(dir: string, seed: number): Promise<string> {
  return makeBundle(dir, { 'model.json': `{"seed":${seed}}`, 'weights.bin': randomBytes(64 * 1024) });
}

/** Every name under bundles/m and models/ (temporaries start with '.'). */
async function entries(root: string): Promise<string[]> {
  const list = async (d: string) => (await readdir(join(root, d)).catch(() => [])).map((n) => `${d}/${n}`);
  return [...(await list('bundles/m')), ...(await list('models'))].sort();
}

const WRITES: FaultPoint[] = ['bundle:partial', 'bundle:copied', 'bundle:stored', 'state:locked', 'state:written'];

test('ENOSPC at each write of a registration: the error names the path, nothing is left behind, the next one works', async () => {
  for (const point of WRITES) {
    const dir = await tempDir('registry-enospc-');
    const root = join(dir, 'reg');
    let full = false;
    const registry = await openRegistry(root, {
      log: memoryLogger(),
      env: {},
      faultHook: (p) => {
        if (full && p === point) throw noSpace(join(root, p.startsWith('state') ? 'models/m.json' : 'bundles/m'));
      },
    });
    await registry.register('m', await bundleOf(join(dir, 'b1'), 1), {}, who);
    const before = await entries(root);
    full = true;
    const second = await bundleOf(join(dir, 'b2'), 2);
    await assert.rejects(registry.register('m', second, {}, who), (err: Error) => {
      assert.match(err.message, /no space left on the device \(ENOSPC\) writing \S*reg\//, point);
      assert.match(err.message, /free space there/, point);
      return true;
    });
    assert.deepEqual(await entries(root), before, `${point}: no orphaned bundle, no temporary, no lock`);
    const report = await registry.verify('m');
    assert.deepEqual([report.problems, report.orphans], [[], []], point);
    full = false;
    assert.equal((await registry.register('m', second, {}, who)).version, 2, `${point}: the next register works`);
  }
});

test('a bundle stored but never recorded: verify names it, the next register of it copies nothing, gc removes others', async () => {
  const dir = await tempDir('registry-orphan-');
  const root = join(dir, 'reg');
  const copies: FaultPoint[] = [];
  let free = 2 ** 40;
  const backend = new LocalRegistryBackend(root, {
    fault: (p) => void (p === 'bundle:copied' && copies.push(p)),
    freeBytes: () => Promise.resolve(free),
  });
  const registry = new Registry(backend, { log: memoryLogger(), env: {} });
  await registry.register('m', await bundleOf(join(dir, 'b1'), 1), {}, who);
  // What a register killed (or out of space) between storing and recording leaves.
  const b2 = await bundleOf(join(dir, 'b2'), 2);
  const orphan = await backend.storeBundle('m', b2);
  const b3 = await backend.storeBundle('m', await bundleOf(join(dir, 'b3'), 3));
  assert.deepEqual((await registry.verify('m')).orphans, [orphan.path, b3.path].sort());
  assert.ok((await registry.verify('m')).ok, 'an unused copy is space, not damage');

  // The disk is now too full for a second copy: registering the stored content reuses it.
  free = 1000;
  copies.length = 0;
  assert.equal((await registry.register('m', b2, {}, who)).version, 2);
  assert.deepEqual(copies, [], 'no second copy was made');
  assert.deepEqual((await registry.verify('m')).orphans, [b3.path]);

  // New content that cannot fit is refused before copying anything, naming the directory.
  await assert.rejects(registry.register('m', await bundleOf(join(dir, 'b4'), 4), {}, who), (err: Error) => {
    assert.match(err.message, /no space for the bundle in the registry: \S*reg\/bundles\/m has 1000 bytes free/);
    return true;
  });
  assert.deepEqual(copies, []);

  assert.deepEqual(await registry.gc('m'), [], 'young copies are kept: a register may be about to record them');
  assert.deepEqual(await registry.gc('m', { minAgeMs: 0 }), [b3.path]);
  const report = await registry.verify('m');
  assert.deepEqual([report.ok, report.orphans, report.versionsChecked], [true, [], 2]);
});
