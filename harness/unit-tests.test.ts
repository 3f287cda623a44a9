import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listTestFiles, nodeTestArgs } from './unit-tests.ts';
import { tempDir } from './testing/lifecycle.ts';

test('listTestFiles finds nested *.test.ts under the roots, skips node_modules and other files, sorted', async () => {
  const repo = await tempDir('unit-tests-');
  const files = [
    'b/z.test.ts',
    'a/deep/er/x.test.ts',
    'a/y.test.ts',
    'a/node_modules/pkg/n.test.ts',
    'a/helper.ts',
    'a/x.test.js',
    'c/other.test.ts',
  ];
  for (const f of files) {
    await mkdir(join(repo, f, '..'), { recursive: true });
    await writeFile(join(repo, f), '');
  }
  assert.deepEqual(await listTestFiles(repo, ['b', 'a']), ['a/deep/er/x.test.ts', 'a/y.test.ts', 'b/z.test.ts']);
});

test('listTestFiles names a missing root instead of silently running fewer tests', async () => {
  const repo = await tempDir('unit-tests-');
  await assert.rejects(listTestFiles(repo, ['nope']), /cannot list test files in .*nope/);
});

test('test:unit passes its node --test options and the arguments after -- to node --test', () => {
  assert.deepEqual(
    nodeTestArgs({ 'test-name-pattern': ['a', 'b'], 'test-only': true, 'test-timeout': '500' }, ['--x']),
    ['--test-name-pattern=a', '--test-name-pattern=b', '--test-only', '--test-timeout=500', '--x'],
  );
  assert.deepEqual(nodeTestArgs({}, []), []);
});
