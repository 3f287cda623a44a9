import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGtoTags } from './tag.ts';
import { execRunner } from './exec.ts';
import { metricsFixture, writeMetricsFixtureFile } from '../../harness/testing/core/metrics-fixtures.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

/** A register.json of v4 kept in staging with these tags (written as is: a test may hand a tag the schema takes but GTO does not). */
const writeRegister = (work: string, tags: string[]) =>
  writeMetricsFixtureFile(
    join(work, 'metrics'),
    'register',
    metricsFixture('register', {
      version: 4,
      decision: 'staging',
      reason: 'not promoted: roc_auc +0.0000 (needs +0.002)',
      gto_tags: tags,
    }),
  );

async function repoWithRemote(tags: string[]) {
  const root = await tempDir('gh-tag-');
  const remote = join(root, 'remote.git');
  const work = join(root, 'work');
  const git = (cwd: string, ...args: string[]) => execRunner('git', args, { cwd });
  await mkdir(work);
  await git(root, 'init', '-q', '--bare', remote);
  await git(work, 'init', '-q', '-b', 'model');
  await git(work, 'config', 'user.email', 'ci@example.com');
  await git(work, 'config', 'user.name', 'ci');
  await mkdir(join(work, 'metrics'));
  await writeRegister(work, tags);
  await git(work, 'add', '.');
  await git(work, 'commit', '-q', '-m', 'model v4');
  await git(work, 'remote', 'add', 'origin', remote);
  await git(work, 'push', '-q', 'origin', 'model');
  return { work, remote, git };
}

test('GTO tags are created annotated, pushed once, and skipped on a rerun', async () => {
  const { work, remote, git } = await repoWithRemote(['flight-delay@v4.0.0', 'flight-delay#staging#4']);
  const lines: string[] = [];
  const first = await createGtoTags({ cwd: work, run: execRunner, print: (l) => lines.push(l) });
  assert.deepEqual(first.created, ['flight-delay@v4.0.0', 'flight-delay#staging#4']);
  assert.deepEqual(first.pushed, first.created);
  assert.equal(
    (await git(remote, 'tag', '--list')).trim().split('\n').sort().join(','),
    'flight-delay#staging#4,flight-delay@v4.0.0',
  );
  assert.equal((await git(work, 'cat-file', '-t', 'flight-delay@v4.0.0')).trim(), 'tag', 'annotated, not lightweight');
  assert.match(
    await git(work, 'tag', '-n5', '-l', 'flight-delay@v4.0.0'),
    /flight-delay v4: staging\s+not promoted: roc_auc/,
  );

  const again = await createGtoTags({ cwd: work, run: execRunner, print: (l) => lines.push(l) });
  assert.deepEqual(again, { created: [], skipped: ['flight-delay@v4.0.0', 'flight-delay#staging#4'], pushed: [] });
  assert.ok(lines.includes('tag flight-delay@v4.0.0 exists: skipped'));
});

test('a tag that exists only on the remote (fresh CI checkout without tags) is skipped', async () => {
  const { work, git } = await repoWithRemote(['flight-delay@v4.0.0']);
  await createGtoTags({ cwd: work, run: execRunner, print: () => {} });
  await git(work, 'tag', '-d', 'flight-delay@v4.0.0');
  const r = await createGtoTags({ cwd: work, run: execRunner, print: () => {} });
  assert.deepEqual(r.skipped, ['flight-delay@v4.0.0']);
  assert.deepEqual(r.created, []);
});

test('invalid tag names are refused before anything is created; no remote mode', async () => {
  const { work, git } = await repoWithRemote(['flight-delay@v4.0.0', 'latest']);
  await assert.rejects(
    createGtoTags({ cwd: work, run: execRunner }),
    /gto_tags holds "latest", which is not a tag this registry makes/,
  );
  assert.equal((await git(work, 'tag', '--list')).trim(), '');
  // Not semver: GTO's grammar rejects it and `gto show` would ignore the registration.
  await writeRegister(work, ['flight-delay@v4']);
  await assert.rejects(
    createGtoTags({ cwd: work, run: execRunner }),
    /"flight-delay@v4", which is not a tag this registry makes \(<name>@v<N>\.0\.0/,
  );
  const calls: string[][] = [];
  const fake = (cmd: string, args: string[]) => {
    calls.push(args);
    return Promise.resolve('');
  };
  await writeRegister(work, ['flight-delay@v5.0.0']);
  const r = await createGtoTags({ cwd: work, run: fake, remote: null, print: () => {} });
  assert.deepEqual(r.created, ['flight-delay@v5.0.0']);
  assert.ok(!calls.some((a) => a.includes('push') || a.includes('ls-remote')));
  assert.ok(
    calls.some((a) => a.includes('user.name=github-actions[bot]')),
    'a tagger identity is supplied when git has none',
  );
});

test('a malformed or missing register.json fails naming the file and the field', async () => {
  const { work } = await repoWithRemote(['flight-delay@v4.0.0']);
  const file = join(work, 'metrics', 'register.json');
  await writeFile(file, JSON.stringify({ ...metricsFixture('register'), version: 'four' }));
  await assert.rejects(
    createGtoTags({ cwd: work, run: execRunner, remote: null }),
    (err: Error) =>
      err.message ===
      `${file}: field \`version\`: Invalid input: expected number, received string; re-run the register stage (npm run pipeline -- register)`,
  );
  await assert.rejects(
    createGtoTags({ cwd: work, run: execRunner, remote: null, registerPath: 'nope.json' }),
    /nope\.json does not exist; run the register stage/,
  );
});
