import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeGitHub, type FakeGitHub } from '../../harness/testing/github/fake-github.ts';
import { publishReport } from './publish-report.ts';
import { MARKER } from './comment.ts';
import { writeMetricsFixture } from '../../harness/testing/report/fixtures.ts';
import { checkXychart } from './report/xychart-check.ts';
import { metricsFixture, writeMetricsFixtureFile } from '../../harness/testing/core/metrics-fixtures.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const events = join(import.meta.dirname, 'testdata', 'events');
const servers: FakeGitHub[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

const root = await tempDir('publish-');
// @actions/core caches the summary path on first use: one file for this whole test process.
const summaryFile = join(root, 'step_summary');
await writeFile(summaryFile, '');

async function workspace(base?: Record<string, number>, baseRows?: number) {
  const cwd = await mkdtemp(join(root, 'ws-'));
  await mkdir(join(cwd, 'metrics'));
  const metrics = join(cwd, 'metrics');
  await writeMetricsFixtureFile(
    metrics,
    'evaluate',
    metricsFixture('evaluate', {
      test: {
        accuracy: 0.7,
        precision: 0.6,
        recall: 0.75,
        f1: 0.6667,
        roc_auc: 0.8,
        threshold: 0.5,
        confusion: { tp: 300, fp: 200, tn: 400, fn: 100 },
      },
    }),
  );
  await writeMetricsFixtureFile(
    metrics,
    'register',
    metricsFixture('register', {
      version: 5,
      reason: 'better',
      production_before: { version: 4, metric: 0.78, metrics: { accuracy: 0.62, roc_auc: 0.78 } },
      gto_tags: ['flight-delay@v5.0.0'],
    }),
  );
  await writeFile(join(cwd, 'metrics', 'report.md'), `${MARKER}\n\n# full report\n`);
  if (base) {
    await mkdir(join(cwd, 'base'));
    await writeMetricsFixtureFile(
      join(cwd, 'base'),
      'evaluate',
      metricsFixture('evaluate', { test: base, ...(baseRows ? { rows_test: baseRows } : {}) }),
    );
  }
  return cwd;
}

async function env(
  event: string,
  file: string,
  extra: Record<string, string> = {},
  opts: Parameters<typeof startFakeGitHub>[0] = {},
) {
  const f = await startFakeGitHub(opts);
  servers.push(f);
  return {
    f,
    env: {
      GITHUB_EVENT_NAME: event,
      GITHUB_EVENT_PATH: join(events, file),
      GITHUB_TOKEN: 'ghs_x',
      GITHUB_REPOSITORY: 'acme/gitops-ml',
      GITHUB_API_URL: f.url,
      GITHUB_STEP_SUMMARY: summaryFile,
      ...extra,
    },
  };
}
const noGit = () => Promise.reject(new Error('fatal: bad revision'));
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
  const { f, env: e } = await env('pull_request', 'pull_request.json', {
    BASE_METRICS_DIR: 'base',
    BASE_LABEL: 'base `model`',
  });
  f.seedIssueComments('acme/gitops-ml', 42, [{ body: 'nice', login: 'ada' }]);
  const first = await publishReport(e, cwd, noGit, quiet);
  const second = await publishReport(e, cwd, noGit, quiet);
  assert.equal((first.results.pr as { status: string }).status, 'created');
  assert.equal((second.results.pr as { status: string }).status, 'updated');
  const ours = f.issueComments.get('acme/gitops-ml#42')!.filter((c) => c.body.includes(MARKER));
  assert.equal(ours.length, 1);
  assert.match(
    ours[0].body,
    /\| accuracy \| 0\.7000 \| [0-9.]+–[0-9.]+ \| 0\.6000 \| ▲ \+0\.1000 \(better\) \*\*beyond noise\*\*/,
  );
  assert.equal(await readFile(join(cwd, 'pr-number.txt'), 'utf8'), '42\n');
  assert.equal(await readFile(join(cwd, 'pr-comment.md'), 'utf8'), ours[0].body);
});

test('a base scored on other test rows: its deltas are shown but never called beyond noise, and the comment says why', async () => {
  const cwd = await workspace({ accuracy: 0.6, roc_auc: 0.75 }, 44_995);
  const { f, env: e } = await env('pull_request', 'pull_request.json', {
    BASE_METRICS_DIR: 'base',
    BASE_LABEL: 'base `model`',
  });
  await publishReport(e, cwd, noGit, quiet);
  const body = f.issueComments.get('acme/gitops-ml#42')!.find((c) => c.body.includes(MARKER))!.body;
  assert.match(body, /\| accuracy \| 0\.7000 \| [0-9.]+–[0-9.]+ \| 0\.6000 \| ▲ \+0\.1000 \(better\) \|/);
  // The production columns still judge noise: production was scored on this run's rows.
  assert.match(body, /\| 0\.6200 \| ▲ \+0\.0800 \(better\) \*\*beyond noise\*\* \|/);
  assert.match(
    body,
    /_base `model` was scored on other test rows \(44,995, this run on [0-9,]+\): its deltas compare two test sets/,
  );
});

test('pull_request without a registry: production is the one the base branch recorded, labelled so, on its own rows', async () => {
  const cwd = await workspace({ accuracy: 0.6, roc_auc: 0.75 }, 44_995);
  // This run's registry was empty (no production); the base's last run promoted its v4.
  await writeMetricsFixtureFile(
    join(cwd, 'metrics'),
    'register',
    metricsFixture('register', { version: 1, decision: 'candidate', production_before: null, gto_tags: [] }),
  );
  await writeMetricsFixtureFile(
    join(cwd, 'base'),
    'register',
    metricsFixture('register', { version: 4, decision: 'promoted', production_before: null }),
  );
  const { f, env: e } = await env('pull_request', 'pull_request.json', {
    BASE_METRICS_DIR: 'base',
    BASE_LABEL: 'base `model`',
  });
  await publishReport(e, cwd, noGit, quiet);
  const body = f.issueComments.get('acme/gitops-ml#42')!.find((c) => c.body.includes(MARKER))!.body;
  assert.match(
    body,
    /\| metric \| this run \| 95% CI \| base `model` \| Δ vs base `model` \| production v4 \| Δ vs production v4 \|/,
  );
  assert.match(
    body,
    /\| accuracy \| 0\.7000 \| [0-9.]+–[0-9.]+ \| 0\.6000 \| ▲ \+0\.1000 \(better\) \| 0\.6000 \| ▲ \+0\.1000 \(better\) \|/,
  );
  assert.match(body, /_Production v4: its test metrics as base `model` recorded them \(this run has no registry/);
});

test('pull_request base from `git show origin/<base>:metrics/evaluate.json`', async () => {
  const cwd = await workspace();
  const { env: e } = await env('pull_request', 'pull_request.json', { REPORT_DRY_RUN: '1' });
  const asked: string[] = [];
  const run = (_cmd: string, args: string[]) => {
    asked.push(args.join(' '));
    return Promise.resolve(JSON.stringify(metricsFixture('evaluate', { test: { accuracy: 0.69, roc_auc: 0.8 } })));
  };
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

test('push with a token that cannot write commit comments → the run fails naming contents: write (no relay exists for pushes)', async () => {
  const cwd = await workspace();
  const { f, env: e } = await env('push', 'push.json', {}, { readOnly: true });
  await assert.rejects(
    publishReport(e, cwd, noGit, quiet),
    /cannot comment on commit 222222222222 \(403\): give the job `permissions: contents: write`/,
  );
  assert.equal(f.commitComments.length, 0);
});

test('workflow_run (fork) → posts the handed-over pr-comment.md on the PR from pr-number.txt', async () => {
  const cwd = await mkdtemp(join(root, 'run-'));
  await writeFile(join(cwd, 'pr-comment.md'), `${MARKER}\ncomposed by the fork's run`);
  await writeFile(join(cwd, 'pr-number.txt'), '43\n');
  const { f, env: e } = await env('workflow_run', 'workflow_run-fork.json');
  const out = await publishReport(e, cwd, noGit, quiet);
  assert.equal((out.results.pr as { status: string }).status, 'created');
  assert.equal(
    f.issueComments.get('acme/gitops-ml#43')![0].body,
    `${MARKER}\ncomposed by the fork's run\n\n![](https://cml.dev/watermark.png#7777777777777777777777777777777777777777 "CML watermark")\n`,
  );
  const empty = await mkdtemp(join(root, 'run-'));
  await writeFile(join(empty, 'pr-comment.md'), 'x');
  await assert.rejects(publishReport(e, empty, noGit, quiet), /no PR number/);
});

test('missing metrics: an error that says to run the pipeline', async () => {
  const cwd = await mkdtemp(join(root, 'none-'));
  const { env: e } = await env('push', 'push.json');
  await assert.rejects(publishReport(e, cwd, noGit, quiet), /evaluate\.json not found: run the pipeline/);
});

// ---- charts in comments, and CML's watermark -------------------------------------------------

const PUSHED = '3333333333333333333333333333333333333333';
const CML_WATERMARK = (sha: string, title = 'CML watermark') => `![](https://cml.dev/watermark.png#${sha} "${title}")`;
/** What `cml comment update` looks for (iterative/cml src/watermark.js isIn, empty label). */
const cmlFinds = (bodies: { id: number; body: string }[]) =>
  [...bodies]
    .reverse()
    .find((c) => /!\[\]\(https:\/\/cml\.dev\/watermark\.png#[0-9a-fA-F]+ "CML watermark"\)/.test(c.body));
const mermaid = (md: string) => [...md.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1]);

async function chartWorkspace() {
  const cwd = await mkdtemp(join(root, 'charts-'));
  await writeMetricsFixture(join(cwd, 'metrics'), { features: 3 });
  return cwd;
}

test('push, with the env train.yml’s publish job sets: commit comment on the pushed commit, PNGs linked at that commit', async () => {
  const cwd = await chartWorkspace();
  // GITHUB_SHA is the trained commit; REPORT_SHA the results commit the job pushed (steps.commit.outputs.sha).
  const { f, env: e } = await env('push', 'push.json', {
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: '2222222222222222222222222222222222222222',
    REPORT_SHA: PUSHED,
  });
  await publishReport(e, cwd, noGit, quiet);
  assert.equal(f.commitComments.length, 1);
  const c = f.commitComments[0];
  assert.equal(c.commit_id, PUSHED);
  for (const name of ['roc', 'pr', 'calibration', 'confusion', 'feature-f00'])
    assert.ok(
      c.body.includes(`](https://github.com/acme/gitops-ml/blob/${PUSHED}/metrics/report/${name}.png?raw=true)`),
      name,
    );
  assert.doesNotMatch(c.body, /blob\/2222222/, 'never the trained commit, which lacks the new PNGs');
  assert.ok(c.body.trimEnd().endsWith(CML_WATERMARK(PUSHED)));
  const summary = await readFile(summaryFile, 'utf8');
  assert.ok(
    summary.includes(`/blob/${PUSHED}/metrics/report/roc.png?raw=true`),
    'the job summary shows the same images',
  );
});

test('push with a REPORT_SHA that is not a SHA: refused before anything is posted', async () => {
  const cwd = await chartWorkspace();
  const { f, env: e } = await env('push', 'push.json', { REPORT_SHA: 'main)![x](https://evil' });
  await assert.rejects(publishReport(e, cwd, noGit, quiet), /full lowercase hex SHA/);
  assert.equal(f.calls.length, 0);
});

test('pull_request: Mermaid charts (ROC, calibration, PR, drift, features) that parse, tables folded, no image URLs', async () => {
  const cwd = await chartWorkspace();
  const { f, env: e } = await env(
    'pull_request',
    'pull_request-fork.json',
    { GITHUB_SERVER_URL: 'https://github.com' },
    { readOnly: true },
  );
  await publishReport(e, cwd, noGit, quiet);
  const body = await readFile(join(cwd, 'pr-comment.md'), 'utf8');
  const blocks = mermaid(body);
  assert.ok(blocks.length >= 7, `${blocks.length} Mermaid charts`);
  for (const b of blocks) assert.doesNotThrow(() => checkXychart(b));
  assert.deepEqual(blocks.map((b) => checkXychart(b).title.split(/[:(]/)[0].trim()).slice(0, 4), [
    'ROC curve',
    'Calibration',
    'Precision–recall curve',
    'Drift vs production v11',
  ]);
  assert.doesNotMatch(
    body,
    /\]\((?!https:\/\/cml\.dev)[^)]*\.png/,
    'no image links: a fork commits nothing to link to',
  );
  assert.match(body, /<details><summary>ROC curve as a table<\/summary>/);
  assert.equal(f.issueComments.get('acme/gitops-ml#43'), undefined);
});

test('pull_request with REPORT_IMAGE_BASE_URL: the published PNGs instead of Mermaid', async () => {
  const cwd = await chartWorkspace();
  const { env: e } = await env('pull_request', 'pull_request.json', {
    REPORT_DRY_RUN: '1',
    REPORT_IMAGE_BASE_URL: 'https://reports.example.com/acme/pr-42/metrics/',
  });
  const out = await publishReport(e, cwd, noGit, quiet);
  assert.ok(out.body.includes('](https://reports.example.com/acme/pr-42/metrics/report/roc.png)'));
  assert.equal(mermaid(out.body).length, 1, 'only the drift scores, which have no PNG');
});

test('a comment `cml comment create` left on the PR is the one we update (watermark kept), and cml finds ours', async () => {
  const cwd = await chartWorkspace();
  const { f, env: e } = await env('pull_request', 'pull_request.json', { BASE_METRICS_DIR: 'metrics' });
  const head = '5555555555555555555555555555555555555555';
  const [cml] = f.seedIssueComments('acme/gitops-ml', 42, [
    {
      body: `# CML report\n\n![](https://asset.cml.dev/abc.png)\n\n${CML_WATERMARK('1234abcd')}`,
      login: 'github-actions[bot]',
    },
    { body: 'looks good', login: 'ada' },
  ]);
  const out = await publishReport(e, cwd, noGit, quiet);
  assert.deepEqual(out.results.pr, { status: 'updated', id: cml.id, url: cml.html_url });
  const comments = f.issueComments.get('acme/gitops-ml#42')!;
  assert.equal(comments.length, 2, 'no second report comment');
  assert.ok(comments[0].body.startsWith(MARKER));
  assert.ok(comments[0].body.trimEnd().endsWith(CML_WATERMARK(head)));
  assert.equal(cmlFinds(comments)?.id, cml.id, '`cml comment update` would edit this same comment');
  // A different --watermark-title is a different comment, for cml and for us.
  const { f: g, env: e2 } = await env('pull_request', 'pull_request.json', {
    BASE_METRICS_DIR: 'metrics',
    CML_COMMENT_WATERMARK_TITLE: 'nightly',
  });
  g.seedIssueComments('acme/gitops-ml', 42, [
    { body: `x\n\n${CML_WATERMARK('1234abcd')}`, login: 'github-actions[bot]' },
  ]);
  assert.equal(((await publishReport(e2, cwd, noGit, quiet)).results.pr as { status: string }).status, 'created');
  assert.ok(g.issueComments.get('acme/gitops-ml#42')![1].body.includes(CML_WATERMARK(head, 'CML watermark nightly')));
});

test('a CML comment on the pushed commit is updated, not duplicated', async () => {
  const cwd = await chartWorkspace();
  const { f, env: e } = await env('push', 'push.json', { REPORT_SHA: PUSHED });
  const [cml] = f.seedCommitComments('acme/gitops-ml', PUSHED, [
    { body: `metrics\n\n${CML_WATERMARK(PUSHED)}`, login: 'github-actions[bot]' },
  ]);
  const out = await publishReport(e, cwd, noGit, quiet);
  assert.equal((out.results.commit as { status: string; id: number }).status, 'updated');
  assert.equal(f.commitComments.length, 1);
  assert.equal(f.commitComments[0].id, cml.id);
  assert.equal(cmlFinds(f.commitComments)?.id, cml.id);
  assert.match(f.commitComments[0].body, /## flight-delay v12: training report/);
});

test('workflow_run: the handed-over comment gets the watermark (one, ours) and replaces the CML comment', async () => {
  const cwd = await mkdtemp(join(root, 'run-'));
  await writeFile(
    join(cwd, 'pr-comment.md'),
    `${MARKER}\nfrom the fork\n\n${CML_WATERMARK('ffff', 'CML watermark spoofed')}\n`,
  );
  await writeFile(join(cwd, 'pr-number.txt'), '43\n');
  const { f, env: e } = await env('workflow_run', 'workflow_run-fork.json');
  const [cml] = f.seedIssueComments('acme/gitops-ml', 43, [
    { body: `old\n\n${CML_WATERMARK('abc')}`, login: 'github-actions[bot]' },
  ]);
  const out = await publishReport(e, cwd, noGit, quiet);
  assert.equal((out.results.pr as { id: number }).id, cml.id);
  const body = f.issueComments.get('acme/gitops-ml#43')![0].body;
  assert.equal((body.match(/cml\.dev\/watermark\.png/g) ?? []).length, 1);
  assert.match(
    body,
    /^<!-- gitops-ml-report -->\nfrom the fork\n\n!\[\]\(https:\/\/cml\.dev\/watermark\.png#[0-9a-f]+ "CML watermark"\)\n$/,
  );
});

test('schedule, workflow_dispatch and repository_dispatch runs post on the results commit too, images linked at it', async () => {
  const cwd = await chartWorkspace();
  for (const [name, file] of [
    ['schedule', 'schedule.json'],
    ['workflow_dispatch', 'workflow_dispatch.json'],
    ['repository_dispatch', 'repository_dispatch.json'],
  ]) {
    const { f, env: e } = await env(name, file, {
      GITHUB_SHA: '2222222222222222222222222222222222222222',
      REPORT_SHA: PUSHED,
    });
    await publishReport(e, cwd, noGit, quiet);
    assert.equal(f.commitComments.length, 1, name);
    assert.equal(f.commitComments[0].commit_id, PUSHED, name);
    assert.ok(f.commitComments[0].body.includes(`/blob/${PUSHED}/metrics/report/roc.png?raw=true)`), name);
  }
});
