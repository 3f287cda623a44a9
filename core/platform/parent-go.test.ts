import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
/** tsx by its own URL: the child runs in a temporary directory, outside this repository's node_modules. */
const TSX = ['--import', import.meta.resolve('tsx')];
import { tempDir } from '../../harness/testing/lifecycle.ts';
import { startWaitingChild } from './parent-go.ts';

const MODULE = pathToFileURL(join(import.meta.dirname, 'parent-go.ts')).href;

/** A child that records its warm-up, whether it was told to load, then to go; exits with `code` once going. */
const CHILD = `import { appendFileSync, writeFileSync } from 'node:fs';
import { waitForParent } from '${MODULE}';
if (process.argv[2] === 'die') process.exit(5);
const parent = await waitForParent(async () => writeFileSync('warmed', process.env.WAIT_FOR_PARENT ?? 'unset'));
appendFileSync('said', parent ? 'load\\n' : 'nothing\\n');
if (parent) {
  await parent.go();
  appendFileSync('said', 'go\\n');
  process.exit(Number(process.argv[2]));
}
`;

async function childDir(): Promise<string> {
  const dir = await tempDir('parent-go-');
  await writeFile(join(dir, 'child.mts'), CHILD);
  return dir;
}

const start = (dir: string, arg: string) =>
  startWaitingChild([...TSX, 'child.mts', arg], { cwd: dir, env: process.env });

test('the child warms up, waits, and works once told; the parent gets its exit code', async () => {
  const dir = await childDir();
  const { code, early } = await start(dir, '7').go();
  assert.deepEqual({ code, early }, { code: 7, early: false });
  // The variable is gone before the warm-up runs: the child's own children wait for no one.
  assert.equal(await readFile(join(dir, 'warmed'), 'utf8'), 'unset');
  assert.equal(await readFile(join(dir, 'said'), 'utf8'), 'load\ngo\n');
});

test('told to load, the child gets ready; told to go, it goes', async () => {
  const dir = await childDir();
  const child = start(dir, '3');
  child.load();
  assert.deepEqual(await child.go(), { code: 3, early: false });
  assert.equal(await readFile(join(dir, 'said'), 'utf8'), 'load\ngo\n');
});

test('cancelled after load, the child ends quietly without going', async () => {
  const dir = await childDir();
  const child = start(dir, '3');
  child.load();
  await child.cancel();
  assert.equal(await child.exited, 0);
  assert.equal(await readFile(join(dir, 'said'), 'utf8'), 'load\n');
});

test('cancelled, the child ends without working', async () => {
  const dir = await childDir();
  const child = start(dir, '7');
  await child.cancel();
  assert.equal(await child.exited, 0);
  assert.equal(await readFile(join(dir, 'said'), 'utf8'), 'nothing\n');
});

test('a child that ended before the word is reported as such, with its exit code', async () => {
  const dir = await childDir();
  const child = start(dir, 'die');
  assert.equal(await child.exited, 5);
  assert.deepEqual(await child.go(), { code: 5, early: true });
  assert.equal(existsSync(join(dir, 'said')), false);
});
