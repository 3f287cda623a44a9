import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { tempDir } from '../harness/testing/lifecycle.ts';
import { gitCommit } from './lineage.ts';

const SHA = '0123456789abcdef0123456789abcdef01234567';

test('outside a git checkout (the trainer image) the version names the commit the image was built from', async () => {
  const image = await tempDir('lineage-image-');
  assert.equal(gitCommit(image, { SOURCE_COMMIT: SHA }), SHA);
  assert.equal(gitCommit(image, { SOURCE_COMMIT: ` ${SHA}\n`, GITHUB_SHA: 'f'.repeat(40) }), SHA);
  assert.equal(gitCommit(image, { GITHUB_SHA: SHA }), SHA);
  assert.equal(gitCommit(image, { SOURCE_COMMIT: '' }), null, 'an image built without the argument names no commit');
});

test('in a git checkout the checked-out commit wins over the image argument', async () => {
  const repo = await tempDir('lineage-repo-');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'x');
  assert.equal(gitCommit(repo, { SOURCE_COMMIT: SHA }), git('rev-parse', 'HEAD'));
});
