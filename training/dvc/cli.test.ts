import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../core/platform/log.ts';
import { formatStatus, main } from './cli.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

async function repoWithData(): Promise<string> {
  const repo = await tempDir('dvc-cli-');
  await mkdir(join(repo, 'data'));
  await writeFile(join(repo, 'data', 'a.txt'), 'hello\n');
  return repo;
}

test('init, add, status, push, pull through the CLI', async () => {
  const repo = await repoWithData();
  let out = '';
  const io = { log: memoryLogger(), cwd: repo, write: (t: string) => void (out += t) };
  assert.equal(await main(['init'], io), 0);
  assert.equal(await main(['add', 'data'], io), 0);
  assert.match(await readFile(join(repo, 'data.dvc'), 'utf8'), /path: data\n$/);
  assert.equal(await main(['status'], io), 0);
  assert.match(out, /^path\s+workspace\s+cache\s+remote\s+recorded in\ndata\s+ok\s+ok\s+2 missing\s+data\.dvc\n$/);
  assert.equal(await main(['push', '-j', '2'], io), 0);
  await rm(join(repo, 'data'), { recursive: true });
  out = '';
  assert.equal(await main(['status', '--json', '--no-cloud'], io), 0);
  assert.equal(JSON.parse(out)[0].workspace, 'missing');
  assert.equal(await main(['pull'], io), 0);
  assert.equal(await readFile(join(repo, 'data', 'a.txt'), 'utf8'), 'hello\n');
});

test('CLI usage errors and failures give exit codes and messages', async () => {
  const repo = await repoWithData();
  const log = memoryLogger();
  const io = { log, cwd: repo, write: () => {} };
  assert.equal(await main([], io), 2);
  assert.equal(await main(['frobnicate'], io), 2);
  assert.equal(await main(['push', '--jobs', 'zero'], io), 2);
  assert.equal(await main(['push', '--bogus'], io), 2);
  assert.equal(await main(['add'], io), 1);
  assert.equal(await main(['push', '-r', 'nowhere'], io), 1);
  assert.ok(log.lines.some((l) => /push failed: .*remote 'nowhere' is not configured/.test(JSON.parse(l).msg)));
});

test('formatStatus renders unknowns and empty repositories', () => {
  assert.match(formatStatus([]), /nothing is tracked/);
  assert.equal(
    formatStatus([
      {
        path: 'data',
        origin: 'data.dvc',
        md5: 'x',
        workspace: 'missing',
        objects: null,
        notInCache: null,
        notInRemote: null,
      },
    ]),
    'path  workspace  cache  remote  recorded in\ndata  missing    ?      ?       data.dvc',
  );
});
