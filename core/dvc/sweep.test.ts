import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../platform/log.ts';
import { hostTag } from '../platform/temp-files.ts';
import { dvcAdd } from './add.ts';
import { initDvcRepo } from './config.ts';
import { push } from './transfer.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(e.name);
  return out;
}

test('push removes the temporaries killed transfers left in the cache and in a local remote', async () => {
  const repo = await tempDir('dvc-sweep-');
  await initDvcRepo(repo);
  await mkdir(join(repo, 'data'));
  await writeFile(join(repo, 'data', 'a.txt'), 'hello\n');
  const log = memoryLogger();
  await dvcAdd('data', { repoRoot: repo, log });
  await push({ repoRoot: repo, log });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const leftover = `.946ac92492d2347c6235b4d2611184.tmp-${dead}-${hostTag()}0badc0de`;
  for (const root of [join(repo, '.dvc', 'cache'), join(repo, '.dvc-remote')]) {
    await mkdir(join(root, 'files', 'md5', 'b1'), { recursive: true });
    await writeFile(join(root, 'files', 'md5', 'b1', leftover), 'hel');
  }
  await writeFile(join(repo, 'data', 'b.txt'), 'world\n');
  await dvcAdd('data', { repoRoot: repo, log });
  await push({ repoRoot: repo, log });
  for (const root of [join(repo, '.dvc', 'cache'), join(repo, '.dvc-remote')]) {
    const names = await allFiles(root);
    assert.ok(!names.some((n) => n.includes('.tmp-')), `${root}: ${names.join(', ')}`);
    assert.equal(names.length, 4, 'hello, world and the .dir manifests of both versions');
  }
  assert.match(log.lines.join('\n'), /removed 1 temporary file\(s\) that interrupted pushes left in/);
});
