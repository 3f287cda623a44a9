import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createAnnotatedTag,
  gitIn,
  gitWorkTree,
  pushCommand,
  readGitTags,
  resolveCommit,
  shellQuote,
} from './gto-git.ts';
import { gtoArtifactState, gtoTagMessage, resolveGtoState } from './gto-state.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

/** A repository with two commits; `tagAt` makes a tag as `gto` does, at a chosen second. */
async function repo() {
  const dir = await tempDir('gto-git-');
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'GTO Tester',
    GIT_AUTHOR_EMAIL: 'gtotester@example.com',
  };
  const git = gitIn(dir, env);
  await git(['init', '-q', '-b', 'main']);
  const commit = async (file: string, text: string) => {
    await writeFile(join(dir, file), text);
    await git(['add', file]);
    await git(['-c', 'user.name=GTO Tester', '-c', 'user.email=gtotester@example.com', 'commit', '-q', '-m', text]);
    return (await git(['rev-parse', 'HEAD'])).trim();
  };
  /** `git tag -a` with GTO's message, tagged by `who` at `second` (git takes the tagger from the committer). */
  const tagAt = (name: string, rev: string, second: number, message: string, who = 'GTO Tester') =>
    gitIn(dir, {
      ...env,
      GIT_COMMITTER_NAME: who,
      GIT_COMMITTER_EMAIL: `${who.split(' ')[0].toLowerCase()}@example.com`,
      GIT_COMMITTER_DATE: `${1_700_000_000 + second} +0300`,
    })(['tag', '-a', name, '-m', message, rev]);
  return { dir, git, commit, tagAt };
}

test("GTO's showcase made with git tags as gto makes them reads back as GTO shows it", async () => {
  const { git, commit, tagAt } = await repo();
  const first = await commit('artifacts.yaml', 'rf and nn');
  const second = await commit('model.pkl', '2nd version');
  const reg = (name: string, v: string, rev: string, s: number) =>
    tagAt(`${name}@${v}`, rev, s, gtoTagMessage('register', name, { version: v }));
  const assign = (name: string, stage: string, n: number, v: string, rev: string, s: number) =>
    tagAt(`${name}#${stage}#${n}`, rev, s, gtoTagMessage('assign', name, { stage, version: v }));
  // tests/conftest.py `showcase`, second by second.
  await reg('rf', 'v1.2.3', first, 0);
  await reg('nn', 'v0.0.1', first, 0);
  await reg('rf', 'v1.2.4', second, 1);
  await assign('nn', 'staging', 1, 'v0.0.1', first, 1);
  await assign('rf', 'production', 1, 'v1.2.3', first, 1);
  await assign('rf', 'staging', 2, 'v1.2.4', second, 2);
  await assign('rf', 'production', 3, 'v1.2.4', second, 3);
  await assign('rf', 'production', 4, 'v1.2.3', first, 4);
  await git(['tag', 'lightweight-tag@v0.0.1']);
  await git(['tag', 'rf#dev#7']);

  const tags = await readGitTags(git);
  const rf4 = tags.find((t) => t.name === 'rf#production#4')!;
  assert.deepEqual(rf4, {
    name: 'rf#production#4',
    target: first,
    annotated: true,
    time: 1_700_000_004,
    tagger: 'GTO Tester',
    taggerEmail: 'gto@example.com',
    message: 'Assigning stage production to artifact rf version v1.2.3',
  });
  assert.deepEqual(
    tags.find((t) => t.name === 'lightweight-tag@v0.0.1'),
    { name: 'lightweight-tag@v0.0.1', target: second, annotated: false, time: 0 },
  );

  const state = resolveGtoState(tags);
  assert.deepEqual([...state.keys()], ['nn', 'rf'], 'lightweight tags are not GTO events');
  const rf = state.get('rf')!;
  assert.equal(rf.stages.production.version, 'v1.2.3');
  assert.equal(rf.stages.production.commit, first);
  assert.equal(rf.stages.staging.version, 'v1.2.4');
  assert.equal(rf.latest, 'v1.2.4');
  assert.equal(rf.nextCounter, 8, 'the lightweight rf#dev#7 counts');
  assert.equal(gtoArtifactState(tags, 'nn').stages.staging.version, 'v0.0.1');
});

test('createAnnotatedTag makes an annotated tag at the commit, with a tagger even when git has none', async () => {
  const { dir, git, commit } = await repo();
  const c1 = await commit('a.txt', 'one');
  await commit('b.txt', 'two');
  const message = gtoTagMessage('register', 'flight-delay', { version: 'v1.0.0' });
  await createAnnotatedTag(git, 'flight-delay@v1.0.0', c1, message);
  const [t] = await readGitTags(git);
  assert.deepEqual(
    [t.name, t.target, t.annotated, t.message, t.tagger],
    ['flight-delay@v1.0.0', c1, true, message, 'gitops-ml'],
  );
  assert.equal(await resolveCommit(git, 'flight-delay@v1.0.0'), c1);
  assert.equal(await resolveCommit(git, 'no-such-rev'), null);
  assert.equal(await gitWorkTree(join(dir)), (await git(['rev-parse', '--show-toplevel'])).trim());
  assert.equal(await gitWorkTree('/'), null);
  await assert.rejects(createAnnotatedTag(git, 'flight-delay@v1.0.0', c1, message), /already exists/);
});

test('pushCommand quotes what a shell would misread', () => {
  assert.equal(pushCommand('origin', ['flight-delay@v3.0.0']), 'git push origin flight-delay@v3.0.0');
  assert.equal(
    pushCommand('origin', ['flight-delay#staging#5', 'flight-delay#prod!#6']),
    "git push origin 'flight-delay#staging#5' 'flight-delay#prod!#6'",
  );
  assert.equal(shellQuote("Unassigning stage 'dev'"), `'Unassigning stage '\\''dev'\\'''`);
});
