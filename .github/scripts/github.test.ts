import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../../harness/testing/github/fake-github.ts';
import {
  READ_ONLY_MESSAGE,
  createCommitComment,
  makeOctokit,
  parseRepository,
  upsertStickyComment,
  writeJobSummary,
} from './github.ts';
import { MARKER } from './comment.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const servers: FakeGitHub[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function fake(opts: Parameters<typeof startFakeGitHub>[0] = {}) {
  const f = await startFakeGitHub(opts);
  servers.push(f);
  return { f, octokit: makeOctokit('ghs_test', f.url) };
}
const repo = { owner: 'acme', repo: 'gitops-ml' };
const filler = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ body: `lgtm ${i}`, login: i % 2 ? 'ada' : 'dependabot[bot]' }));

test('sticky: 120 comments, ours on page 2 → edited in place, nothing created', async () => {
  const { f, octokit } = await fake();
  f.seedIssueComments('acme/gitops-ml', 42, filler(110));
  const [ours] = f.seedIssueComments('acme/gitops-ml', 42, [
    { body: `${MARKER}\nold report`, login: 'github-actions[bot]' },
  ]);
  f.seedIssueComments('acme/gitops-ml', 42, filler(9));
  const r = await upsertStickyComment(octokit, {
    ...repo,
    issueNumber: 42,
    body: `${MARKER}\nnew report`,
    marker: MARKER,
  });
  assert.equal(r.status, 'updated');
  assert.equal(r.status === 'updated' && r.id, ours.id);
  const pages = f.calls.filter((c) => c.method === 'GET').map((c) => c.query.page ?? '1');
  assert.deepEqual(pages, ['1', '2'], 'both pages were listed, following the Link header');
  assert.equal(f.calls.filter((c) => c.method === 'POST').length, 0);
  const all = f.issueComments.get('acme/gitops-ml#42')!;
  assert.equal(all.length, 120);
  assert.equal(all.filter((c) => c.body.includes(MARKER)).length, 1);
  assert.equal(all.find((c) => c.id === ours.id)!.body, `${MARKER}\nnew report`);
  assert.equal(f.calls[0].auth, 'token ghs_test');
});

test('sticky: no marker comment → created once; a second run edits it', async () => {
  const { f, octokit } = await fake();
  f.seedIssueComments('acme/gitops-ml', 7, filler(3));
  const first = await upsertStickyComment(octokit, { ...repo, issueNumber: 7, body: `${MARKER}\nv1`, marker: MARKER });
  const second = await upsertStickyComment(octokit, { ...repo, issueNumber: 7, body: `${MARKER}\nv2`, marker: MARKER });
  assert.equal(first.status, 'created');
  assert.equal(second.status, 'updated');
  const withMarker = f.issueComments.get('acme/gitops-ml#7')!.filter((c) => c.body.includes(MARKER));
  assert.deepEqual(
    withMarker.map((c) => c.body),
    [`${MARKER}\nv2`],
  );
});

test('sticky: a marker comment by another user is not edited', async () => {
  const { f, octokit } = await fake();
  const [theirs] = f.seedIssueComments('acme/gitops-ml', 9, [{ body: `quoting: ${MARKER} old`, login: 'mallory' }]);
  const r = await upsertStickyComment(octokit, { ...repo, issueNumber: 9, body: `${MARKER}\nreport`, marker: MARKER });
  assert.equal(r.status, 'created');
  assert.equal(theirs.body, `quoting: ${MARKER} old`);
  assert.equal(f.calls.filter((c) => c.method === 'PATCH').length, 0);
});

test('sticky: the bot login is configurable (a PAT posts as its user)', async () => {
  const { f, octokit } = await fake({ actor: 'release-bot' });
  const [ours] = f.seedIssueComments('acme/gitops-ml', 3, [{ body: `${MARKER}\nold`, login: 'release-bot' }]);
  const r = await upsertStickyComment(octokit, {
    ...repo,
    issueNumber: 3,
    body: `${MARKER}\nnew`,
    marker: MARKER,
    botLogin: 'release-bot',
  });
  assert.equal(r.status === 'updated' && r.id, ours.id);
});

test('403 from a fork token → a clear read-only result, no throw', async () => {
  const { f, octokit } = await fake({ readOnly: true });
  const r = await upsertStickyComment(octokit, { ...repo, issueNumber: 43, body: `${MARKER}\nx`, marker: MARKER });
  assert.deepEqual(r, { status: 'read-only', message: READ_ONLY_MESSAGE });
  assert.match(READ_ONLY_MESSAGE, /workflow_run job posts instead/);
  const c = await createCommitComment(octokit, { ...repo, sha: 'abc123', body: 'x' });
  assert.equal(c.status, 'read-only');
  assert.equal(f.commitComments.length, 0);
});

test('other errors still throw', async () => {
  const { octokit } = await fake();
  await assert.rejects(octokit.request('GET /nope'), /Not Found/);
});

test('commit comment on push', async () => {
  const { f, octokit } = await fake();
  const r = await createCommitComment(octokit, {
    ...repo,
    sha: '2222222222222222222222222222222222222222',
    body: `${MARKER}\nreport`,
  });
  assert.equal(r.status, 'created');
  assert.equal(f.commitComments.length, 1);
  assert.equal(f.commitComments[0].commit_id, '2222222222222222222222222222222222222222');
  const call = f.calls.at(-1)!;
  assert.equal(call.method, 'POST');
  assert.equal(call.path, '/repos/acme/gitops-ml/commits/2222222222222222222222222222222222222222/comments');
  assert.deepEqual(call.body, { body: `${MARKER}\nreport` });
});

test('job summary is appended to GITHUB_STEP_SUMMARY', async () => {
  const dir = await tempDir('summary-');
  const file = join(dir, 'step_summary');
  await writeFile(file, 'earlier step\n');
  process.env.GITHUB_STEP_SUMMARY = file;
  assert.equal(await writeJobSummary('## report\n\n| a | b |\n| - | - |'), true);
  assert.equal(await readFile(file, 'utf8'), 'earlier step\n## report\n\n| a | b |\n| - | - |\n');
  assert.equal(await writeJobSummary('x', {}), false);
});

test('repository names are checked', () => {
  assert.deepEqual(parseRepository('acme/gitops-ml'), repo);
  assert.throws(() => parseRepository(undefined), /GITHUB_REPOSITORY must be "owner\/name"/);
  assert.throws(() => makeOctokit(''), /GITHUB_TOKEN is empty/);
});
