import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../platform/log.ts';
import { dvcAdd } from './add.ts';
import { initDvcRepo } from './config.ts';
import { md5File } from './hash.ts';
import { status } from './status.ts';
import { pull, push } from './transfer.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const log = memoryLogger();

/** A repository with data/ tracked in data.dvc and a local remote next to it. */
async function makeRepo(): Promise<string> {
  const repo = await tempDir('dvc-repo-');
  await initDvcRepo(repo);
  await mkdir(join(repo, 'data', 'batches'), { recursive: true });
  await writeFile(join(repo, 'data', 'a.txt'), 'hello\n');
  await writeFile(join(repo, 'data', 'batches', 'b.txt'), 'world\n');
  await writeFile(join(repo, 'data', 'empty.txt'), '');
  return repo;
}

/** What `git clone` would give: the metadata files, no data, no cache. */
async function cloneMetadata(repo: string): Promise<string> {
  const clone = await tempDir('dvc-clone-');
  await mkdir(join(clone, '.dvc'));
  for (const f of ['.dvc/config', '.dvc/.gitignore', '.dvcignore', 'data.dvc']) await cp(join(repo, f), join(clone, f));
  // The clone's relative remote URL must point at the original's remote.
  await writeFile(
    join(clone, '.dvc', 'config'),
    `[core]\n    remote = local\n['remote "local"']\n    url = ${join(repo, '.dvc-remote')}\n`,
  );
  return clone;
}

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(join(d, e.name), r);
      else out[r] = await readFile(join(d, e.name), 'utf8');
    }
  };
  await walk(dir, '');
  return out;
}

test('add → push → pull on a fresh clone restores the data exactly', async () => {
  const repo = await makeRepo();
  const added = await dvcAdd('data', { repoRoot: repo, log });
  assert.equal(added.objects, 4); // 3 files (one empty) + the .dir manifest
  const dvcText = await readFile(join(repo, 'data.dvc'), 'utf8');
  assert.match(
    dvcText,
    /^outs:\n- md5: [0-9a-f]{32}\.dir\n {2}size: 12\n {2}nfiles: 3\n {2}hash: md5\n {2}path: data\n$/,
  );
  assert.equal(await readFile(join(repo, '.gitignore'), 'utf8'), '/data\n');
  const cached = join(repo, '.dvc', 'cache', 'files', 'md5', 'b1', '946ac92492d2347c6235b4d2611184');
  assert.equal((await stat(cached)).mode & 0o777, 0o444);

  const pushed = await push({ repoRoot: repo, log });
  assert.equal(pushed.transferred, 4);
  assert.equal(
    (await stat(join(repo, '.dvc-remote', 'files', 'md5', 'b1', '946ac92492d2347c6235b4d2611184'))).mode & 0o777,
    0o444,
  );
  assert.equal((await push({ repoRoot: repo, log })).transferred, 0);

  const clone = await cloneMetadata(repo);
  const before = await status({ repoRoot: clone, log });
  assert.deepEqual(
    before.map((r) => [r.path, r.workspace, r.notInCache, r.notInRemote]),
    [['data', 'missing', 4, 0]],
  );
  const pulled = await pull({ repoRoot: clone, log });
  assert.equal(pulled.transferred, 4);
  assert.equal(pulled.checkedOut, 1);
  assert.deepEqual(await tree(join(clone, 'data')), await tree(join(repo, 'data')));
  assert.equal(await md5File(join(clone, 'data', 'a.txt')), 'b1946ac92492d2347c6235b4d2611184');
  assert.equal((await stat(join(clone, 'data', 'a.txt'))).mode & 0o777, 0o644);
  const after = await status({ repoRoot: clone, log });
  assert.deepEqual(
    after.map((r) => [r.workspace, r.notInCache, r.notInRemote]),
    [['ok', 0, 0]],
  );
  assert.equal((await pull({ repoRoot: clone, log })).upToDate, 1);
});

test('a corrupted remote object fails the pull and leaves the workspace untouched', async () => {
  const repo = await makeRepo();
  await dvcAdd('data', { repoRoot: repo, log });
  await push({ repoRoot: repo, log });
  const obj = join(repo, '.dvc-remote', 'files', 'md5', 'b1', '946ac92492d2347c6235b4d2611184');
  await chmod(obj, 0o644);
  await writeFile(obj, 'HELLO\n');
  const clone = await cloneMetadata(repo);
  await mkdir(join(clone, 'data'));
  await writeFile(join(clone, 'data', 'old.txt'), 'previous version\n');
  await assert.rejects(pull({ repoRoot: clone, log }), (err: Error) => {
    assert.match(err.message, /workspace was not changed/);
    assert.match(err.message, /files\/md5\/b1\/946ac92492d2347c6235b4d2611184 .* is corrupted/);
    return true;
  });
  assert.deepEqual(await tree(join(clone, 'data')), { 'old.txt': 'previous version\n' });
  // Nothing unverified entered the cache.
  await assert.rejects(stat(join(clone, '.dvc', 'cache', 'files', 'md5', 'b1', '946ac92492d2347c6235b4d2611184')));
});

test('a missing remote object is reported with its key', async () => {
  const repo = await makeRepo();
  await dvcAdd('data', { repoRoot: repo, log });
  await push({ repoRoot: repo, log });
  await rm(join(repo, '.dvc-remote', 'files', 'md5', '59'), { recursive: true, force: true });
  const clone = await cloneMetadata(repo);
  await assert.rejects(pull({ repoRoot: clone, log }), /files\/md5\/59\/1785b794601e212b260e25925636fd: missing from/);
  await assert.rejects(stat(join(clone, 'data')));
});

test('a clone whose remote is a directory of the checkout (the default) is told to share the remote or ingest again', async () => {
  const repo = await makeRepo();
  await dvcAdd('data', { repoRoot: repo, log });
  await push({ repoRoot: repo, log });
  const clone = await cloneMetadata(repo);
  // What a real clone gets: the committed config, whose remote is the clone's own (absent) .dvc-remote.
  await cp(join(repo, '.dvc', 'config'), join(clone, '.dvc', 'config'));
  await assert.rejects(pull({ repoRoot: clone, log }), (err: Error) => {
    assert.match(err.message, /missing from /);
    assert.match(err.message, /a directory inside this checkout, which only the machine that pushed has/);
    assert.match(err.message, /url = gs:\/\/bucket\/dvc.*or ingest the data again here \(npm start\)/);
    return true;
  });
  // A remote elsewhere keeps the plain advice.
  const other = await cloneMetadata(repo);
  await rm(join(repo, '.dvc-remote', 'files'), { recursive: true, force: true });
  await assert.rejects(pull({ repoRoot: other, log }), (err: Error) => {
    assert.match(err.message, /Push them again from a machine that has the data/);
    assert.doesNotMatch(err.message, /inside this checkout/);
    return true;
  });
});

test('pull refuses to overwrite local changes stored nowhere else unless forced', async () => {
  const repo = await makeRepo();
  await dvcAdd('data', { repoRoot: repo, log });
  await push({ repoRoot: repo, log });
  await writeFile(join(repo, 'data', 'a.txt'), 'edited\n');
  await assert.rejects(
    pull({ repoRoot: repo, log }),
    /would overwrite local changes[\s\S]*data\/a\.txt[\s\S]*Nothing was changed/,
  );
  assert.equal(await readFile(join(repo, 'data', 'a.txt'), 'utf8'), 'edited\n');
  await pull({ repoRoot: repo, log, force: true });
  assert.equal(await readFile(join(repo, 'data', 'a.txt'), 'utf8'), 'hello\n');
  // A change whose content is already cached (an older version) is safe to replace.
  await writeFile(join(repo, 'data', 'a.txt'), 'world\n');
  await pull({ repoRoot: repo, log });
  assert.equal(await readFile(join(repo, 'data', 'a.txt'), 'utf8'), 'hello\n');
});

test('push works from the workspace when the cache was deleted, and refuses stale data', async () => {
  const repo = await makeRepo();
  await dvcAdd('data', { repoRoot: repo, log });
  await rm(join(repo, '.dvc', 'cache'), { recursive: true, force: true });
  assert.equal((await push({ repoRoot: repo, log })).transferred, 4);
  await rm(join(repo, '.dvc', 'cache'), { recursive: true, force: true });
  await writeFile(join(repo, 'data', 'a.txt'), 'changed\n');
  await assert.rejects(push({ repoRoot: repo, log }), /data changed since data\.dvc recorded it/);
  await rm(join(repo, 'data'), { recursive: true });
  await assert.rejects(push({ repoRoot: repo, log, remote: 'local' }), /not in the cache and not in the workspace/);
});

test('single-file outs, targets and dvcAdd errors', async () => {
  const repo = await makeRepo();
  await writeFile(join(repo, 'model.bin'), 'weights');
  await dvcAdd('model.bin', { repoRoot: repo, log });
  assert.match(
    await readFile(join(repo, 'model.bin.dvc'), 'utf8'),
    /^outs:\n- md5: [0-9a-f]{32}\n {2}size: 7\n {2}hash: md5\n {2}path: model\.bin\n$/,
  );
  await push({ repoRoot: repo, log, targets: ['model.bin'] });
  const remoteFiles = await readdir(join(repo, '.dvc-remote', 'files', 'md5'));
  assert.equal(remoteFiles.length, 1);
  await assert.rejects(push({ repoRoot: repo, log, targets: ['nope'] }), /not tracked by DVC: nope/);
  await assert.rejects(dvcAdd('missing', { repoRoot: repo, log }), /does not exist/);
  await assert.rejects(dvcAdd('..', { repoRoot: repo, log }), /must be a file or directory inside the repository/);
  await rm(join(repo, 'model.bin'));
  await pull({ repoRoot: repo, log, targets: ['model.bin'] });
  assert.equal(await readFile(join(repo, 'model.bin'), 'utf8'), 'weights');
});

test('outs pointing outside the repository are refused', async () => {
  const repo = await makeRepo();
  await writeFile(
    join(repo, 'evil.dvc'),
    'outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: ../elsewhere.txt\n',
  );
  await assert.rejects(
    pull({ repoRoot: repo, log }),
    /evil\.dvc tracks '\.\.\/elsewhere\.txt', which is not inside the repository/,
  );
});
