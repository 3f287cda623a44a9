import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../platform/log.ts';
import { acquireLock, processAlive, withLock } from './lock.ts';
import { RegistryError } from './names.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

/** A pid that existed and has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

function lockContent(pid: number, host: string, at: Date): string {
  return JSON.stringify({ pid, host, token: `t-${pid}-${at.getTime()}`, acquired_at: at.toISOString() });
}

test('a held lock excludes others until released; the timeout error says who holds it', async () => {
  const dir = await tempDir('lock-');
  const path = join(dir, 'state.json.lock');
  const held = await acquireLock(path);
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), held.info);
  assert.equal(held.info.pid, process.pid);
  await assert.rejects(
    acquireLock(path, { timeoutMs: 80 }),
    (e: RegistryError) =>
      e.code === 'conflict' &&
      e.message.includes(`held by pid ${process.pid} on ${hostname()}`) &&
      /delete the lock file/.test(e.message),
  );
  await held.release();
  const again = await acquireLock(path, { timeoutMs: 80 });
  await again.release();
  assert.deepEqual((await readdir(dir)).sort(), [], 'no lock and no temporary files left');
});

test('withLock serialises read-modify-write: no increment is lost', async () => {
  const dir = await tempDir('lock-');
  const counter = join(dir, 'counter');
  await writeFile(counter, '0');
  await Promise.all(
    Array.from({ length: 25 }, () =>
      withLock(join(dir, 'counter.lock'), async () => {
        const v = Number(await readFile(counter, 'utf8'));
        await new Promise((r) => setTimeout(r, 1));
        await writeFile(counter, String(v + 1));
      }),
    ),
  );
  assert.equal(await readFile(counter, 'utf8'), '25');
});

test('a lock left by a dead process on this host is recovered, with a warning', async () => {
  const dir = await tempDir('lock-');
  const path = join(dir, 'm.json.lock');
  const pid = deadPid();
  assert.equal(processAlive(pid), false);
  assert.equal(processAlive(process.pid), true);
  await writeFile(path, lockContent(pid, hostname(), new Date()));
  const log = memoryLogger();
  const held = await acquireLock(path, { timeoutMs: 1000, log });
  assert.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
  await held.release();
  assert.match(log.lines.join('\n'), new RegExp(`removed a stale registry lock.*"pid":${pid}`));
});

test("another host's lock is stale only after staleMs; an unreadable lock only after a few seconds", async () => {
  const dir = await tempDir('lock-');
  const path = join(dir, 'm.json.lock');
  await writeFile(path, lockContent(1, 'other-host', new Date()));
  await assert.rejects(acquireLock(path, { timeoutMs: 60, staleMs: 60_000 }), /held by pid 1 on other-host/);
  await writeFile(path, lockContent(1, 'other-host', new Date(Date.now() - 120_000)));
  await (await acquireLock(path, { timeoutMs: 500, staleMs: 60_000 })).release();

  await writeFile(path, ''); // a writer died between creating and filling the file (O_EXCL fallback)
  await assert.rejects(acquireLock(path, { timeoutMs: 60 }), /an unreadable lock file/);
  const old = new Date(Date.now() - 60_000);
  await utimes(path, old, old);
  await (await acquireLock(path, { timeoutMs: 500 })).release();
});

test('many waiters racing to break one stale lock still get the lock one at a time', async () => {
  const dir = await tempDir('lock-');
  const path = join(dir, 'm.json.lock');
  await writeFile(path, lockContent(deadPid(), hostname(), new Date()));
  let inside = 0;
  let maxInside = 0;
  await Promise.all(
    Array.from({ length: 12 }, () =>
      withLock(path, async () => {
        maxInside = Math.max(maxInside, ++inside);
        await new Promise((r) => setTimeout(r, 2));
        inside--;
      }),
    ),
  );
  assert.equal(maxInside, 1);
});

test('release never removes a lock that is no longer ours', async () => {
  const dir = await tempDir('lock-');
  const path = join(dir, 'm.json.lock');
  const held = await acquireLock(path);
  const other = lockContent(process.pid, hostname(), new Date());
  await writeFile(path, other);
  await held.release();
  assert.equal(await readFile(path, 'utf8'), other);
});
