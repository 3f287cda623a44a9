import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createGtoTags } from './tag.ts';
import { gitIn, readGitTags } from '../../core/registry/gto-git.ts';
import { gtoArtifactState } from '../../core/registry/gto-state.ts';
import { execRunner } from './exec.ts';
import { metricsFixture, writeMetricsFixtureFile } from '../../harness/testing/core/metrics-fixtures.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
  // The assignment takes GTO's counter (highest existing + 1: 1 in a repository without tags), not
  // the registry's #4.
  assert.deepEqual(first.created, ['flight-delay@v4.0.0', 'flight-delay#staging#1']);
  assert.deepEqual(first.pushed, first.created);
  assert.ok(
    lines.includes(
      "flight-delay#staging#4 in register.json is the registry's counter; GTO's counter makes it flight-delay#staging#1",
    ),
  );
  assert.equal(
    (await git(remote, 'tag', '--list')).trim().split('\n').sort().join(','),
    'flight-delay#staging#1,flight-delay@v4.0.0',
  );
  assert.equal((await git(work, 'cat-file', '-t', 'flight-delay@v4.0.0')).trim(), 'tag', 'annotated, not lightweight');
  assert.match(
    await git(work, 'tag', '-n5', '-l', 'flight-delay@v4.0.0'),
    /flight-delay v4: staging\s+not promoted: roc_auc/,
  );
  // GTO's own message first, as `gto register` / `gto assign` write it.
  assert.match(
    await git(work, 'tag', '-n1', '-l', 'flight-delay*'),
    /flight-delay#staging#1 +Assigning stage staging to artifact flight-delay version v4\.0\.0\nflight-delay@v4\.0\.0 +Registering artifact flight-delay version v4\.0\.0/,
  );

  const again = await createGtoTags({ cwd: work, run: execRunner, print: (l) => lines.push(l) });
  assert.deepEqual(again, {
    created: [],
    skipped: ['flight-delay@v4.0.0', 'flight-delay#staging#4'],
    pushed: [],
    refused: [],
  });
  assert.ok(
    lines.some((l) => /^tag flight-delay@v4\.0\.0 exists at [0-9a-f]{12}, the commit this run tags: skipped$/.test(l)),
  );
  assert.ok(
    lines.some((l) =>
      /^GTO says staging = v4\.0\.0 \(tag flight-delay#staging#1 by ci on .*\) already: flight-delay#staging#4 not needed$/.test(
        l,
      ),
    ),
  );
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
    return Promise.resolve(args[0] === 'rev-parse' ? `${'c'.repeat(40)}\n` : '');
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

/** Run `git` as someone at a given time (a person's `gto` tags, earlier pipeline runs). */
const gitAs = (cwd: string, who: string, iso: string) =>
  gitIn(cwd, {
    ...process.env,
    GIT_COMMITTER_NAME: who,
    GIT_COMMITTER_EMAIL: `${who.toLowerCase()}@example.com`,
    GIT_COMMITTER_DATE: iso,
  });

/**
 * The drift measured with GTO 1.10.1: runs 1 and 2 tagged v1 (production) and v2 (staging); then
 * Alice ran `gto assign flight-delay --version v1.0.0 --stage staging` and `gto register
 * flight-delay --bump-major` in her clone and pushed; run 3 registered v3 in staging.
 */
async function driftedRepo() {
  const { work, remote, git } = await repoWithRemote([]);
  const commit = async (msg: string) => {
    await git(work, 'commit', '-q', '--allow-empty', '-m', msg);
    return (await git(work, 'rev-parse', 'HEAD')).trim();
  };
  const c1 = await commit('results v1');
  const bot = gitAs(work, 'ci', '2025-01-01T00:00:00Z');
  await bot(['tag', '-a', 'flight-delay@v1.0.0', '-m', 'Registering artifact flight-delay version v1.0.0', c1]);
  await bot(['tag', '-a', 'flight-delay#production#1', '-m', 'Assigning stage production …', c1]);
  const c2 = await commit('results v2');
  const bot2 = gitAs(work, 'ci', '2025-02-01T00:00:00Z');
  await bot2(['tag', '-a', 'flight-delay@v2.0.0', '-m', 'Registering artifact flight-delay version v2.0.0', c2]);
  await bot2(['tag', '-a', 'flight-delay#staging#2', '-m', 'Assigning stage staging …', c2]);
  await git(work, 'push', '-q', 'origin', 'model', '--tags');

  const alice = join(work, '..', 'alice');
  await git(join(work, '..'), 'clone', '-q', '-b', 'model', remote, alice);
  await git(alice, 'commit', '-q', '--allow-empty', '-m', 'my experiment');
  const c3 = (await git(alice, 'rev-parse', 'HEAD')).trim();
  await gitAs(
    alice,
    'Alice',
    '2025-03-01T10:00:00Z',
  )([
    'tag',
    '-a',
    'flight-delay#staging#3',
    '-m',
    'Assigning stage staging to artifact flight-delay version v1.0.0',
    c1,
  ]);
  await gitAs(
    alice,
    'Alice',
    '2025-03-02T10:00:00Z',
  )(['tag', '-a', 'flight-delay@v3.0.0', '-m', 'Registering artifact flight-delay version v3.0.0', c3]);
  await git(alice, 'push', '-q', 'origin', 'model', '--tags');
  await git(work, 'pull', '-q', '--no-tags', 'origin', 'model');

  await writeMetricsFixtureFile(
    join(work, 'metrics'),
    'register',
    metricsFixture('register', {
      version: 3,
      decision: 'staging',
      reason: 'not promoted: roc_auc +0.0010 (needs +0.002)',
      production_before: { version: 1, metric: 0.8 },
      gto_tags: ['flight-delay@v3.0.0', 'flight-delay#staging#3'],
      stage_changes: { staging: { from: 2, to: 3 } },
    }),
  );
  await git(work, 'add', '.');
  const c4 = await commit('results v3');
  return { work, remote, git, c1, c2, c3, c4 };
}

const gtoStaging = async (cwd: string) =>
  gtoArtifactState(await readGitTags(gitIn(cwd)), 'flight-delay').stages.staging?.version;

test("someone else's v3.0.0 at another commit fails the run, naming the tag, both commits and the fix; nothing is created", async () => {
  const { work, remote, git, c3, c4 } = await driftedRepo();
  const before = await git(remote, 'tag', '--list');
  await assert.rejects(createGtoTags({ cwd: work, run: execRunner, print: () => {} }), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(
        `^tag flight-delay@v3\\.0\\.0 already exists at ${c3.slice(0, 12)} by Alice on 2025-03-02 10:00:00Z \\("Registering artifact flight-delay version v3\\.0\\.0"\\), ` +
          `but this run's registry v3 is at ${c4.slice(0, 12)}: GTO's v3\\.0\\.0 and the registry's v3 are different models under one name\\. ` +
          `If that tag is a mistake, delete it \\(git push origin ':refs/tags/flight-delay@v3\\.0\\.0' && git tag -d 'flight-delay@v3\\.0\\.0'\\)`,
      ),
    );
    return true;
  });
  assert.equal(await git(remote, 'tag', '--list'), before, 'nothing pushed');
  assert.equal(await gtoStaging(work), 'v1.0.0', 'the tags Alice pushed since the checkout were fetched');
});

test('a register tag at a commit where someone registered another GTO version is refused (GTO could not tell which one a stage means)', async () => {
  const { work, remote, git } = await repoWithRemote(['flight-delay@v4.0.0', 'flight-delay#staging#4']);
  await git(
    work,
    '-c',
    'user.name=Bob',
    'tag',
    '-a',
    'flight-delay@v3.9.0',
    '-m',
    'Registering artifact flight-delay version v3.9.0',
  );
  const head = (await git(work, 'rev-parse', 'HEAD')).trim();
  await assert.rejects(createGtoTags({ cwd: work, run: execRunner, remote: null, print: () => {} }), (err: Error) => {
    assert.equal(
      err.message,
      `flight-delay@v4.0.0 not created: commit ${head.slice(0, 12)} already holds GTO version v3.9.0 by Bob; a v4.0.0 there would make every stage tag at that commit ambiguous to GTO (it fails with "ManyVersions"). ` +
        'If that version is a mistake, delete its tags (git tag -d flight-delay@v3.9.0 && git push origin :refs/tags/flight-delay@v3.9.0) and run this again',
    );
    return true;
  });
  assert.deepEqual((await git(work, 'tag', '--list')).trim().split('\n'), ['flight-delay@v3.9.0'], 'nothing created');
  assert.equal((await git(remote, 'tag', '--list')).trim(), '', 'nothing pushed');
});

test("GTO's staging by a person is not overwritten silently: the register tag is made, the assignment refused; --override assigns with GTO's counter", async () => {
  const { work, remote, git, c4 } = await driftedRepo();
  // Alice agrees her v3.0.0 was a mistake and deletes it, as the message above says.
  await git(work, 'push', '-q', 'origin', ':refs/tags/flight-delay@v3.0.0');
  const lines: string[] = [];
  const r = await createGtoTags({ cwd: work, run: execRunner, print: (l) => lines.push(l) });
  assert.deepEqual(r.created, ['flight-delay@v3.0.0']);
  assert.deepEqual(r.pushed, ['flight-delay@v3.0.0']);
  assert.equal(r.refused.length, 1);
  assert.match(
    r.refused[0],
    /^GTO says staging = v1\.0\.0 \(tag flight-delay#staging#3 by Alice on 2025-03-01 10:00:00Z\) but the registry had v2 there before this run moved it to v3: the stage was changed with GTO since\. Not tagged: staging = v3\.0\.0\. To let the tags rule, run `npm run registry -- sync-from-tags --registry registry` \(the registry then follows GTO\); to keep this run's decision, run `npm run gh:tag -- --override` at [0-9a-f]{12}/,
  );
  assert.ok(lines.includes(`refused: ${r.refused[0]}`));
  assert.equal(await gtoStaging(work), 'v1.0.0');

  // The command fails the job (exit 1), then --override tags the run's decision over it.
  const cli = (...args: string[]) =>
    promisify(execFile)(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(REPO, '.github/scripts/tag.ts'), ...args],
      {
        cwd: work,
        env: { ...process.env, TAG_TARGET: c4 },
      },
    );
  await assert.rejects(cli(), (err: { code: number; stdout: string; stderr: string }) => {
    assert.equal(err.code, 1);
    assert.match(err.stdout, /tag flight-delay@v3\.0\.0 exists at [0-9a-f]{12}, the commit this run tags: skipped/);
    assert.match(err.stdout, /refused: GTO says staging = v1\.0\.0/);
    assert.match(err.stderr, /^gh:tag: 1 stage assignment\(s\) not tagged/);
    return true;
  });
  const { stdout } = await cli('--override');
  assert.match(stdout, /--override: GTO says staging = v1\.0\.0 .*; tagging this run's staging = v3\.0\.0 over it/);
  assert.match(stdout, /created tag flight-delay#staging#4 at /, "GTO's counter: Alice's #3 + 1");
  assert.equal(await gtoStaging(work), 'v3.0.0');
  assert.equal((await git(remote, 'rev-parse', 'flight-delay#staging#4^{commit}')).trim(), c4, 'pushed, at v3.0.0');
  assert.equal(await gtoStaging(remote), 'v3.0.0');
});

test("an assignment of an earlier version points at that version's commit, with GTO's counter over every tag", async () => {
  const { work, git, c2, c4 } = await driftedRepo();
  await git(work, 'tag', 'flight-delay#dev#7', c2); // lightweight: not an event, but GTO counts it
  await writeMetricsFixtureFile(
    join(work, 'metrics'),
    'register',
    metricsFixture('register', {
      version: 2,
      decision: 'promoted',
      reason: 'roc_auc +0.003',
      production_before: { version: 1, metric: 0.8 },
      gto_tags: ['flight-delay#production#3'],
      stage_changes: { production: { from: 1, to: 2 } },
    }),
  );
  const r = await createGtoTags({ cwd: work, run: execRunner, remote: null, target: c4, print: () => {} });
  assert.deepEqual(r, { created: ['flight-delay#production#8'], skipped: [], pushed: [], refused: [] });
  assert.equal((await git(work, 'rev-parse', 'flight-delay#production#8^{commit}')).trim(), c2, 'where v2.0.0 is');
  assert.equal(gtoArtifactState(await readGitTags(gitIn(work)), 'flight-delay').stages.production.version, 'v2.0.0');

  // A version GTO does not know cannot be assigned: its commit is unknown.
  await git(work, 'tag', '-d', 'flight-delay#production#8', 'flight-delay@v2.0.0');
  const missing = await createGtoTags({ cwd: work, run: execRunner, remote: null, target: c4, print: () => {} });
  assert.deepEqual(missing.created, []);
  assert.match(
    missing.refused[0],
    /^GTO has no v2\.0\.0 \(no tag flight-delay@v2\.0\.0\), so production = v2\.0\.0 cannot be tagged/,
  );
});

test('a tag that points elsewhere on the remote than here is named, not pushed over', async () => {
  const { work, git, c1, c2 } = await driftedRepo();
  await git(work, 'tag', '-d', 'flight-delay#production#1');
  await git(work, 'tag', '-a', 'flight-delay#production#1', '-m', 'moved', c2);
  await assert.rejects(createGtoTags({ cwd: work, run: execRunner, print: () => {} }), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(
        `^tag flight-delay#production#1 points at ${c2.slice(0, 12)} here but at ${c1.slice(0, 12)} on origin: delete the local one`,
      ),
    );
    return true;
  });
});

test('an unassignment in register.json unassigns every version GTO shows in the stage', async () => {
  const { work, git, c4 } = await driftedRepo();
  await git(work, 'fetch', '-q', 'origin', 'refs/tags/*:refs/tags/*'); // Alice's tags
  await writeMetricsFixtureFile(
    join(work, 'metrics'),
    'register',
    metricsFixture('register', {
      version: 2,
      decision: 'rejected',
      reason: 'staging withdrawn',
      gto_tags: ['flight-delay#staging!#9'],
      stage_changes: { staging: { from: 2, to: null } },
    }),
  );
  const before = gtoArtifactState(await readGitTags(gitIn(work)), 'flight-delay');
  assert.deepEqual(before.inStage.staging, ['v1.0.0', 'v2.0.0']);
  const r = await createGtoTags({ cwd: work, run: execRunner, remote: null, target: c4, print: () => {} });
  assert.deepEqual(r.created, ['flight-delay#staging!#4', 'flight-delay#staging!#5']);
  assert.equal(await gtoStaging(work), undefined);
});
