import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from './testing/fake-github.ts';
import { publishReport } from './publish-report.ts';
import { MARKER } from './comment.ts';

const events = join(import.meta.dirname, 'testdata', 'events');
const servers: FakeGitHub[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const root = await mkdtemp(join(tmpdir(), 'publish-'));
// @actions/core caches the summary path on first use: one file for this whole test process.
const summaryFile = join(root, 'step_summary');
await writeFile(summaryFile, '');

async function workspace(base?: Record<string, number>) {
  const cwd = await mkdtemp(join(root, 'ws-'));
  await mkdir(join(cwd, 'metrics'));
  const confusion = { tp: 300, fp: 200, tn: 400, fn: 100 };
  await writeFile(join(cwd, 'metrics', 'evaluate.json'), JSON.stringify({ primary_metric: 'roc_auc', rows_test: 1000, test: { accuracy: 0.7, precision: 0.6, recall: 0.75, f1: 0.6667, roc_auc: 0.8, threshold: 0.5, confusion } }));
  await writeFile(join(cwd, 'metrics', 'register.json'), JSON.stringify({ model_name: 'flight-delay', version: 5, decision: 'production', reason: 'better', primary_metric: 'roc_auc', production_before: { version: 4, metrics: { accuracy: 0.62, roc_auc: 0.78 } }, gates: { latency: { passed: true } }, gto_tags: ['flight-delay@v5'] }));
  await writeFile(join(cwd, 'metrics', 'report.md'), `${MARKER}\n\n# full report\n`);
  if (base) {
    await mkdir(join(cwd, 'base'));
    await writeFile(join(cwd, 'base', 'evaluate.json'), JSON.stringify({ primary_metric: 'roc_auc', test: base }));
  }
  return cwd;
}

async function env(event: string, file: string, extra: Record<string, string> = {}, opts: Parameters<typeof startFakeGitHub>[0] = {}) {
  const f = await startFakeGitHub(opts);
  servers.push(f);
  return { f, env: { GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: join(events, file), GITHUB_TOKEN: 'ghs_x', GITHUB_REPOSITORY: 'acme/gitops-ml', GITHUB_API_URL: f.url, GITHUB_STEP_SUMMARY: summaryFile, ...extra } };
}
const noGit = async () => { throw new Error('fatal: bad revision'); };
const quiet = () => {};

test('push → commit comment on the pushed sha and the job summary', async () => {
  const cwd = await workspace();
  const { f, env: e } = await env('push', 'push.json');
  const out = await publishReport(e, cwd, noGit, quiet);
  assert.equal(f.commitComments.length, 1);
  assert.equal(f.commitComments[0].commit_id, '2222222222222222222222222222222222222222');
  assert.ok(f.commitComments[0].body.startsWith(`${MARKER}\n`));
  assert.match(f.commitComments[0].body, /production v4/);
  assert.equal(out.results.summary, 'written');
  assert.match(await readFile(summaryFile, 'utf8'), /## flight-delay v5: training report/);
});

test('pull_request → one sticky comment, edited on the next push; base read from BASE_METRICS_DIR', async () => {
  const cwd = await workspace({ accuracy: 0.6, roc_auc: 0.75 });
  const { f, env: e } = await env('pull_request', 'pull_request.json', { BASE_METRICS_DIR: 'base', BASE_LABEL: 'base `model`' });
  f.seedIssueComments('acme/gitops-ml', 42, [{ body: 'nice', login: 'ada' }]);
  const first = await publishReport(e, cwd, noGit, quiet);
  const second = await publishReport(e, cwd, noGit, quiet);
  assert.equal((first.results.pr as { status: string }).status, 'created');
  assert.equal((second.results.pr as { status: string }).status, 'updated');
  const ours = f.issueComments.get('acme/gitops-ml#42')!.filter((c) => c.body.includes(MARKER));
  assert.equal(ours.length, 1);
  assert.match(ours[0].body, /\| accuracy \| 0\.7000 \| [0-9.]+–[0-9.]+ \| 0\.6000 \| ▲ \+0\.1000 \(better\) \*\*beyond noise\*\*/);
  assert.equal(await readFile(join(cwd, 'pr-number.txt'), 'utf8'), '42\n');
  assert.equal(await readFile(join(cwd, 'pr-comment.md'), 'utf8'), ours[0].body);
});

test('pull_request base from `git show origin/<base>:metrics/evaluate.json`', async () => {
  const cwd = await workspace();
  const { env: e } = await env('pull_request', 'pull_request.json', { REPORT_DRY_RUN: '1' });
  const asked: string[] = [];
  const run = async (_cmd: string, args: string[]) => { asked.push(args.join(' ')); return JSON.stringify({ test: { accuracy: 0.69, roc_auc: 0.8 } }); };
  const out = await publishReport(e, cwd, run, quiet);
  assert.deepEqual(asked, ['show origin/model:metrics/evaluate.json']);
  assert.match(out.body, /\| accuracy \| 0\.7000 \| [0-9.–]+ \| 0\.6900 \| ▲ \+0\.0100 \(better\) _within noise_/);
  assert.equal(out.results.github, 'dry run: nothing posted');
});

test('fork PR with a read-only token → summary + pr-comment.md, a clear message, no failure', async () => {
  const cwd = await workspace();
  const { f, env: e } = await env('pull_request', 'pull_request-fork.json', {}, { readOnly: true });
  const lines: string[] = [];
  const out = await publishReport(e, cwd, noGit, (l) => lines.push(l));
  assert.equal((out.results.pr as { status: string }).status, 'read-only');
  assert.ok(lines.some((l) => /read-only token: cannot comment; the workflow_run job posts instead/.test(l)));
  assert.ok(lines.some((l) => /comment saved to .*pr-comment\.md/.test(l)));
  assert.equal(await readFile(join(cwd, 'pr-number.txt'), 'utf8'), '43\n');
  assert.equal(f.issueComments.get('acme/gitops-ml#43'), undefined);
});

test('workflow_run (fork) → posts the handed-over pr-comment.md on the PR from pr-number.txt', async () => {
  const cwd = await mkdtemp(join(root, 'run-'));
  await writeFile(join(cwd, 'pr-comment.md'), `${MARKER}\ncomposed by the fork's run`);
  await writeFile(join(cwd, 'pr-number.txt'), '43\n');
  const { f, env: e } = await env('workflow_run', 'workflow_run-fork.json');
  const out = await publishReport(e, cwd, noGit, quiet);
  assert.equal((out.results.pr as { status: string }).status, 'created');
  assert.equal(f.issueComments.get('acme/gitops-ml#43')![0].body, `${MARKER}\ncomposed by the fork's run`);
  const empty = await mkdtemp(join(root, 'run-'));
  await writeFile(join(empty, 'pr-comment.md'), 'x');
  await assert.rejects(publishReport(e, empty, noGit, quiet), /no PR number/);
});

test('missing metrics: an error that says to run the pipeline', async () => {
  const cwd = await mkdtemp(join(root, 'none-'));
  const { env: e } = await env('push', 'push.json');
  await assert.rejects(publishReport(e, cwd, noGit, quiet), /evaluate\.json not found: run the pipeline/);
});
