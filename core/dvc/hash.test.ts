import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dirManifestBytes, hashDir, hashPath, md5File, parseDirManifest } from './hash.ts';
import { HashCache } from './hash-cache.ts';
import { DvcIgnore, parseIgnorePatterns } from './ignore.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

async function tmp(): Promise<string> {
  return tempDir('dvc-hash-');
}

// Test vectors checked against real DVC 3.64.0.
const HELLO = 'b1946ac92492d2347c6235b4d2611184';
const WORLD = '591785b794601e212b260e25925636fd';

test('md5File of hello/world matches DVC', async () => {
  const dir = await tmp();
  await writeFile(join(dir, 'a'), 'hello\n');
  await writeFile(join(dir, 'b'), 'world\n');
  assert.equal(await md5File(join(dir, 'a')), HELLO);
  assert.equal(await md5File(join(dir, 'b')), WORLD);
  const big = Buffer.alloc(3 * 1024 * 1024 + 7, 1);
  await writeFile(join(dir, 'big'), big);
  assert.equal(
    await md5File(join(dir, 'big')),
    (await import('node:crypto')).createHash('md5').update(big).digest('hex'),
  );
});

test('directory hash matches DVC: manifest bytes, .dir md5, size, nfiles', async () => {
  const dir = await tmp();
  await mkdir(join(dir, 'images'));
  await writeFile(join(dir, 'images', 'b.txt'), 'world\n');
  await writeFile(join(dir, 'images', 'a.txt'), 'hello\n');
  const h = await hashDir(join(dir, 'images'));
  assert.equal(
    h.manifest.toString(),
    `[{"md5": "${HELLO}", "relpath": "a.txt"}, {"md5": "${WORLD}", "relpath": "b.txt"}]`,
  );
  assert.equal(h.md5, 'ecf8f6613d6b2a92c412c00f6a32657c.dir');
  assert.equal(h.size, 12);
  assert.equal(h.nfiles, 2);
  const viaPath = await hashPath(join(dir, 'images'));
  assert.equal(viaPath.md5, h.md5);
});

test('manifest sorts relpaths as Python strings, with posix separators', async () => {
  const dir = await tmp();
  await mkdir(join(dir, 'a'));
  await writeFile(join(dir, 'a', 'b'), 'x');
  await writeFile(join(dir, 'a.txt'), 'y');
  await writeFile(join(dir, 'ab'), 'z');
  const h = await hashDir(dir);
  assert.deepEqual(
    h.entries.map((e) => e.relpath),
    ['a.txt', 'a/b', 'ab'],
  );
  assert.equal(
    dirManifestBytes([
      { relpath: 'b', md5: HELLO },
      { relpath: 'a', md5: WORLD },
    ]).toString(),
    `[{"md5": "${WORLD}", "relpath": "a"}, {"md5": "${HELLO}", "relpath": "b"}]`,
  );
});

test('empty directory and executable files', async () => {
  const dir = await tmp();
  await mkdir(join(dir, 'empty'));
  const h = await hashDir(join(dir, 'empty'));
  assert.equal(h.manifest.toString(), '[]');
  assert.equal(h.nfiles, 0);
  await writeFile(join(dir, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(dir, 'run.sh'), 0o755);
  const f = await hashPath(join(dir, 'run.sh'));
  assert.equal(f.kind, 'file');
  assert.equal(f.kind === 'file' && f.isexec, true);
});

test('DVC default ignores, atomic temp files and .dvcignore patterns', async () => {
  const root = await tmp();
  const data = join(root, 'data');
  await mkdir(join(data, '.git'), { recursive: true });
  await mkdir(join(data, 'logs'), { recursive: true });
  await mkdir(join(data, 'keep'), { recursive: true });
  await writeFile(join(data, '.git', 'x'), '1');
  await writeFile(join(data, '.data.csv.tmp-123-abcd1234'), 'partial');
  await writeFile(join(data, 'logs', 'a.log'), 'l');
  await writeFile(join(data, 'keep', 'a.tmp'), 't');
  await writeFile(join(data, 'keep', 'important.tmp'), 'i');
  await writeFile(join(data, 'data.csv'), 'd');
  await writeFile(join(root, '.dvcignore'), '# comment\n\n/data/logs/\n*.tmp\n!important.tmp\n');
  const ignore = await DvcIgnore.load(root);
  const h = await hashDir(data, { repoRoot: root, ignore });
  assert.deepEqual(
    h.entries.map((e) => e.relpath),
    ['data.csv', 'keep/important.tmp'],
  );
});

test('ignore patterns: anchoring, ** and character classes', () => {
  const ig = new DvcIgnore(parseIgnorePatterns('/top.txt\ndocs/**/draft\n**/cache/\n[abc].bin\nlogs\n'));
  assert.ok(ig.isIgnored('top.txt', false));
  assert.ok(!ig.isIgnored('sub/top.txt', false));
  assert.ok(ig.isIgnored('docs/draft', false));
  assert.ok(ig.isIgnored('docs/x/y/draft', false));
  assert.ok(ig.isIgnored('a/b/cache', true));
  assert.ok(!ig.isIgnored('a/b/cache', false));
  assert.ok(ig.isIgnored('x/b.bin', false));
  assert.ok(!ig.isIgnored('x/d.bin', false));
  assert.ok(ig.isIgnored('deep/logs', true));
  assert.ok(ig.isIgnored('.dvc', true));
});

test('a .dvcignore inside a tracked directory is an error, as in DVC', async () => {
  const root = await tmp();
  await mkdir(join(root, 'data'));
  await writeFile(join(root, 'data', '.dvcignore'), '*.x\n');
  await assert.rejects(hashDir(join(root, 'data'), { repoRoot: root }), /should not be in a collected directory/);
});

test('parseDirManifest rejects corrupted and unsafe manifests', () => {
  assert.throws(() => parseDirManifest('not json', 'obj'), /not valid JSON/);
  assert.throws(() => parseDirManifest('{}', 'obj'), /must be a JSON list/);
  assert.throws(() => parseDirManifest('[{"md5": "x", "relpath": "a"}]', 'obj'), /valid "md5"/);
  assert.throws(() => parseDirManifest(`[{"md5": "${HELLO}", "relpath": "../etc/passwd"}]`, 'obj'), /unsafe relpath/);
  assert.deepEqual(parseDirManifest(`[{"md5": "${HELLO}", "relpath": "a/b"}]`, 'obj'), [
    { md5: HELLO, relpath: 'a/b' },
  ]);
});

test('HashCache reuses md5s of unchanged old files and re-hashes changed or racy ones', async () => {
  const dir = await tmp();
  const file = join(dir, 'f');
  await writeFile(file, 'hello\n');
  const old = new Date(Date.now() - 60_000);
  await utimes(file, old, old);
  const cacheFile = join(dir, 'cache.json');
  const c1 = await HashCache.open(cacheFile);
  const h1 = await hashPath(file, { cache: c1 });
  assert.equal(h1.md5, HELLO);
  assert.equal(c1.misses, 1);
  await c1.save();
  const c2 = await HashCache.open(cacheFile);
  await hashPath(file, { cache: c2 });
  assert.equal(c2.hits, 1);
  await writeFile(file, 'world\n');
  await utimes(file, old, new Date(old.getTime() + 1000));
  assert.equal((await hashPath(file, { cache: c2 })).md5, WORLD);
  // A file hashed right after it was written is not trusted next time (mtime granularity).
  await writeFile(file, 'hello\n');
  const c3 = await HashCache.open(null);
  await hashPath(file, { cache: c3 });
  await hashPath(file, { cache: c3 });
  assert.equal(c3.hits, 0);
  assert.equal(c3.misses, 2);
  await writeFile(cacheFile, '{broken');
  const c4 = await HashCache.open(cacheFile);
  assert.equal((await hashPath(file, { cache: c4 })).md5, HELLO);
});
