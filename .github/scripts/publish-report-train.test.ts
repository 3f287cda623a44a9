/**
 * The push-to-model report as train.yml's publish job produces it: the job's own commit step
 * (its `run:` script, in bash, against a bare origin) commits metrics/, then publish-report runs
 * with exactly the `env:` the workflow gives its step. Every image in the commit comment must be
 * a file of the commit that step pushed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startFakeGitHub } from '../../harness/testing/github/fake-github.ts';
import { publishReport } from './publish-report.ts';
import { writeMetricsFixture } from '../../harness/testing/report/fixtures.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const WORKFLOW = join(import.meta.dirname, '..', 'workflows', 'train.yml');
interface Step {
  id?: string;
  run?: string;
  env?: Record<string, string>;
}

/** The job that commits the results (a step with id `commit`) and its publish-report step. */
async function publishJob(): Promise<{ commit: Step; publish: Step; jobEnv: Record<string, string> }> {
  const wf = parse(await readFile(WORKFLOW, 'utf8')) as {
    env?: Record<string, string>;
    jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>;
  };
  for (const job of Object.values(wf.jobs)) {
    const commit = job.steps.find((s) => s.id === 'commit');
    const publish = job.steps.find((s) => s.run?.includes('gh:publish-report'));
    if (commit && publish) return { commit, publish, jobEnv: { ...wf.env, ...job.env } };
  }
  throw new Error('train.yml: no job with a `commit` step and a gh:publish-report step');
}

/** The expressions the step's env may use, with their values in this run; anything else is a test failure. */
function resolve(value: string, known: Record<string, string>): string {
  return value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, expr: string) => {
    if (expr in known) return known[expr];
    if (/^vars\.[A-Z0-9_]+$/.test(expr)) return ''; // repository variables left unset
    throw new Error(`train.yml publish step: expression \${{ ${expr} }} is not modelled by this test`);
  });
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const fake = await startFakeGitHub();
after(() => fake.close());

test('train.yml publish job: comment on the commit its commit step pushed, every image a file of that commit', async () => {
  const { commit, publish, jobEnv } = await publishJob();
  const root = await tempDir('train-publish-');
  const origin = join(root, 'origin.git');
  const work = join(root, 'work');
  git(root, 'init', '-q', '--bare', '-b', 'model', origin);
  git(root, 'clone', '-q', origin, work);
  git(work, 'config', 'user.email', 'ada@example.com');
  git(work, 'config', 'user.name', 'Ada');
  await writeFile(join(work, 'params.yaml'), 'seed: 1\n');
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'trained commit');
  git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/model');
  const trained = git(work, 'rev-parse', 'HEAD');

  // What the train job hands over (artifact training-results), then the workflow's own commit step.
  await writeMetricsFixture(join(work, 'metrics'), { features: 4 });
  await writeFile(join(work, 'dvc.lock'), "schema: '2.0'\n");
  await writeFile(join(work, 'data.dvc'), 'outs: []\n');
  const output = join(root, 'github_output');
  await writeFile(output, '');
  // Literal workflow/job env (bot identity); TRAIN_BRANCH is what the workflow computes for a push to model.
  const literal = Object.fromEntries(Object.entries(jobEnv).filter(([, v]) => !String(v).includes('${{')));
  const shellEnv = {
    ...process.env,
    ...literal,
    TRAIN_BRANCH: 'model',
    GITHUB_OUTPUT: output,
    GITHUB_RUN_ID: '99',
    GITHUB_EVENT_NAME: 'push',
  };
  execFileSync('bash', ['-e', '-c', commit.run!], { cwd: work, env: shellEnv, stdio: 'pipe' });
  const pushed = /^sha=([0-9a-f]{40})$/m.exec(await readFile(output, 'utf8'))![1];
  assert.notEqual(pushed, trained, 'the step committed the results');
  assert.equal(git(origin, 'rev-parse', 'refs/heads/model'), pushed, 'and pushed them');

  const event = join(root, 'event.json');
  await writeFile(
    event,
    JSON.stringify({
      ref: 'refs/heads/model',
      after: trained,
      before: '0'.repeat(40),
      head_commit: { message: 'x', author: { name: 'Ada' } },
      sender: { login: 'ada', type: 'User' },
    }),
  );
  const stepEnv = Object.fromEntries(
    Object.entries(publish.env ?? {}).map(([k, v]) => [
      k,
      resolve(String(v), { 'github.token': 'ghs_test', 'steps.commit.outputs.sha': pushed }),
    ]),
  );
  const actions = {
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/gitops-ml',
    GITHUB_SHA: trained,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: event,
    GITHUB_API_URL: fake.url,
  };
  await publishReport(
    { ...actions, ...stepEnv },
    work,
    () => Promise.reject(new Error('no base')),
    () => {},
  );

  assert.equal(fake.commitComments.length, 1);
  const c = fake.commitComments[0];
  assert.equal(c.commit_id, pushed);
  const urls = [...c.body.matchAll(/!\[[^\]]*\]\((https:\/\/github\.com\/[^)]+)\)/g)].map((m) => m[1]);
  assert.ok(urls.length >= 8, `${urls.length} images`);
  for (const url of urls) {
    const m = /^https:\/\/github\.com\/acme\/gitops-ml\/blob\/([0-9a-f]{40})\/([A-Za-z0-9._/-]+)\?raw=true$/.exec(url);
    assert.ok(m, url);
    assert.equal(m[1], pushed, url);
    assert.doesNotThrow(() => git(work, 'cat-file', '-e', `${pushed}:${m[2]}`), `${m[2]} is in the pushed commit`);
  }
});
