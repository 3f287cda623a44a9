import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostTag, isStaleTemp, parseTempName, sweepStaleTemps, tempPathIn, tempSiblingPath } from './temp-files.ts';
import { replaceDirAtomic, writeFileAtomic } from './atomic.ts';
import { stopChild, tempDir } from '../../harness/testing/lifecycle.ts';

const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid;
const HOUR = 3600_000;

test('temporary names: ours carry pid and host tag; parse reads them back; other names are not ours', () => {
  const name = tempSiblingPath('/x/data.csv').split('/').pop()!;
  assert.match(name, new RegExp(`^\\.data\\.csv\\.tmp-${process.pid}-${hostTag()}[0-9a-f]{8}$`));
  assert.deepEqual(parseTempName(name), { target: 'data.csv', pid: process.pid, host: hostTag() });
  assert.deepEqual(parseTempName('.tmp-12-0011223344556677'), { target: null, pid: 12, host: '00112233' });
  const bare = tempPathIn('/x/bundles');
  assert.ok(bare.startsWith('/x/bundles/.tmp-'), bare);
  assert.deepEqual(parseTempName(bare.split('/').pop()!), { target: null, pid: process.pid, host: hostTag() });
  assert.notEqual(tempPathIn('/x'), tempPathIn('/x'));
  assert.deepEqual(
    parseTempName('.a.tmp-12-abcd1234'),
    { target: 'a', pid: 12, host: null },
    'older names have no host tag',
  );
  for (const other of ['data.csv', '.a.tmp', '.a.tmp-x-abcd', 'a.tmp-12-abcd1234', '.a.tmp-12-XYZ'])
    assert.equal(parseTempName(other), null, other);
});

test('stale: this host and the writer is gone, or untouched for an hour; never a live writer here or a young one elsewhere', async () => {
  const now = Date.now();
  const here = (pid: number) => ({ target: 'f', pid, host: hostTag() });
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    assert.equal(isStaleTemp(here(deadPid()), now, { now }), true, 'dead writer on this host');
    assert.equal(isStaleTemp(here(sleeper.pid!), now, { now }), false, 'live writer on this host');
    assert.equal(isStaleTemp(here(process.pid), now, { now }), false, 'our own write in flight');
    assert.equal(
      isStaleTemp(
        { target: 'f', pid: deadPid(), host: 'ffffffff' === hostTag() ? 'eeeeeeee' : 'ffffffff' },
        now - 59 * 60_000,
        { now },
      ),
      false,
      'another host, 59 min old',
    );
    assert.equal(isStaleTemp({ target: 'f', pid: 1, host: null }, now, { now }), false, 'no host tag, young');
    assert.equal(
      isStaleTemp(here(sleeper.pid!), now - HOUR, { now }),
      true,
      'an hour without a write: stale whoever holds it',
    );
  } finally {
    await stopChild(sleeper);
  }
});

test('atomic writes sweep stale temporaries of their own target only; a tree sweep takes all stale ones', async () => {
  const dir = await tempDir('temps-');
  const dead = deadPid();
  const stale = `.metrics.json.tmp-${dead}-${hostTag()}0badc0de`;
  const otherTarget = `.other.json.tmp-${dead}-${hostTag()}0badc0de`;
  const live = `.metrics.json.tmp-${process.pid}-${hostTag()}00000001`;
  const staleDir = `.prepared.tmp-${dead}-${hostTag()}0badc0de`;
  for (const f of [stale, otherTarget, live]) await writeFile(join(dir, f), 'x');
  await mkdir(join(dir, staleDir, 'sub'), { recursive: true });
  await writeFileAtomic(join(dir, 'metrics.json'), '{}\n');
  assert.deepEqual((await readdir(dir)).sort(), [live, staleDir, otherTarget, 'metrics.json'].sort());
  await replaceDirAtomic(join(dir, 'prepared'), async (tmp) => writeFile(join(tmp, 'train.parquet'), 'p'));
  assert.deepEqual((await readdir(dir)).sort(), [live, otherTarget, 'metrics.json', 'prepared'].sort());
  // Deep in a cache-like tree, including an old one without a host tag.
  const deep = join(dir, 'files', 'md5', 'ab');
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, `.cdef.tmp-${dead}-${hostTag()}12345678`), 'x');
  await writeFile(join(deep, '.0123.tmp-7-abcd1234'), 'x');
  await utimes(join(deep, '.0123.tmp-7-abcd1234'), new Date(Date.now() - 2 * HOUR), new Date(Date.now() - 2 * HOUR));
  await writeFile(join(deep, 'cdef0123'), 'object');
  const removed = await sweepStaleTemps(dir, { recursive: true });
  assert.equal(removed.length, 3);
  assert.deepEqual(await readdir(deep), ['cdef0123']);
  assert.deepEqual((await readdir(dir)).sort(), [live, 'files', 'metrics.json', 'prepared'].sort());
});
