/**
 * The rehearsal catches what would break a first real run: each known break (1: cloud auth before
 * checkout in deploy, 2: a PR report with no dry run and no token, 4: deploying an image the build
 * never pushed) is put back into a COPY of the workflows, and the rehearsal of that copy fails with a message
 * naming the step; the shipped workflows rehearse green under the same conditions. Bounded: the
 * deploy scenarios serve a small seeded model, and the PR report records `npm run pipeline:start`
 * (REHEARSE_NPM_RECORD) so the report is composed from the committed metrics/.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registryWithVersions } from '../testing/api/support.ts';
import { checkoutOrderProblems } from './checks.ts';
import { rehearse } from './index.ts';
import { tempDir } from '../testing/lifecycle.ts';

const REPO = join(import.meta.dirname, '..', '..');
const WORKFLOWS = join(REPO, '.github', 'workflows');
// .ci/run's `npm test` would run this suite again inside the rehearsal.
const BOUNDED = 'test$|run pipeline:start$';
// Failed rehearsals keep their sandbox for inspection; the tests remove theirs.
const temps: string[] = [];
after(() => Promise.all(temps.map((d) => rm(d, { recursive: true, force: true }))));

/** A copy of the workflows with `edit` applied to `file` (which must change). */
async function brokenCopy(file: string, edit: (source: string) => string): Promise<string> {
  const dir = await tempDir('broken-workflows-');
  await cp(WORKFLOWS, dir, { recursive: true });
  const source = await readFile(join(dir, file), 'utf8');
  const broken = edit(source);
  assert.notEqual(broken, source, `the edit did not change ${file}`);
  await writeFile(join(dir, file), broken);
  return dir;
}

/** Moves the steps of `job` matching `pick` (by their first line) to the front of its steps. */
export function moveStepsFirst(source: string, job: string, pick: (firstLine: string) => boolean): string {
  const lines = source.split('\n');
  const start = lines.indexOf(`  ${job}:`);
  const stepsAt = lines.findIndex((l, i) => i > start && l === '    steps:');
  let end = lines.findIndex((l, i) => i > stepsAt && /^ {0,3}\S/.test(l));
  if (end < 0) end = lines.length;
  const blocks: string[][] = [];
  let current: string[] = [];
  let comments: string[] = [];
  for (const l of lines.slice(stepsAt + 1, end)) {
    if (/^ {6}#/.test(l)) comments.push(l);
    else if (l.startsWith('      - ')) {
      if (current.length) blocks.push(current);
      current = [...comments, l];
      comments = [];
    } else {
      current.push(...comments, l);
      comments = [];
    }
  }
  if (current.length) blocks.push(current);
  const pending = comments;
  const first = (b: string[]) => b.find((l) => l.startsWith('      - '))!;
  const moved = [...blocks.filter((b) => pick(first(b))), ...blocks.filter((b) => !pick(first(b)))];
  return [...lines.slice(0, stepsAt + 1), ...moved.flat(), ...pending, ...lines.slice(end)].join('\n');
}

let seed: string;
async function deployRehearsal(workflowsDir?: string, strategy = 'push') {
  if (!seed) {
    const made = await registryWithVersions([1]);
    temps.push(made.root);
    seed = made.url;
  }
  const lines: string[] = [];
  const r = await rehearse({
    source: REPO,
    workflow: 'deploy-api',
    event: strategy,
    workflowsDir,
    registrySeed: seed,
    npmRecord: BOUNDED,
    print: (l) => lines.push(l),
  });
  temps.push(r.sandbox.root);
  return { r, log: lines.join('\n') };
}

test(
  'deploy-api (rolling) rehearses green, and what it deploys is the image the build pushed',
  { timeout: 300_000 },
  async () => {
    const { r, log } = await deployRehearsal();
    assert.deepEqual(r.failures, [], log.slice(-3000));
    const push = r.calls.find((c) => c.cmd === 'docker' && c.args[0] === 'push');
    const setImage = r.calls.find((c) => c.cmd === 'kubectl' && c.args.includes('set') && c.args.includes('image'));
    assert.ok(push && setImage, 'docker push and kubectl set image were called');
    const pushed = push.args.at(-1)!;
    const deployed = setImage.args.at(-1)!.replace(/^api=/, '');
    assert.ok(deployed.startsWith(`${pushed}@sha256:`), `deployed ${deployed}, pushed ${pushed}`);
    for (const c of r.calls.filter((x) => x.cmd === 'kubectl' && x.args[0] !== 'kustomize'))
      assert.match(
        c.env.KUBECONFIG ?? '',
        /gha-kubeconfig-[0-9a-f]{16}$/,
        'kubectl used the kubeconfig get-gke-credentials wrote',
      );
  },
);

test(
  'break 1 reintroduced (auth + get-gke-credentials before checkout in deploy): the rehearsal fails at the deploy step',
  { timeout: 300_000 },
  async () => {
    const dir = await brokenCopy('deploy-api.yml', (s) =>
      moveStepsFirst(s, 'deploy', (l) => /google-github-actions\/(auth|get-gke-credentials)@/.test(l)),
    );
    const { r, log } = await deployRehearsal(dir);
    assert.equal(r.ok, false);
    assert.match(
      log,
      /Deleting the contents of '[^']+' \(.*gha-creds-[0-9a-f]{16}\.json/,
      'checkout deletes the credentials file',
    );
    const failure = r.failures.join('\n');
    // The first step after checkout that needs the deleted files fails: setup-gcloud (credentials) or kubectl (kubeconfig).
    assert.match(
      failure,
      /job deploy: step "(Run google-github-actions\/setup-gcloud|Deploy \(rolling\) with smoke test and automatic rollback)": .*(gha-creds-[0-9a-f]{16}\.json does not exist|KUBECONFIG \S+gha-kubeconfig-\S+ does not exist)/,
    );
    assert.ok(
      checkoutOrderProblems(await readFile(join(dir, 'deploy-api.yml'), 'utf8'), 'deploy-api.yml').some((p) =>
        /job deploy: step 1 .*auth.* before actions\/checkout/.test(p),
      ),
    );
  },
);

test(
  'break 4 reintroduced (deploy an image name the build never pushed): the rollout fails and rolls back, naming the step',
  { timeout: 300_000 },
  async () => {
    const dir = await brokenCopy('deploy-api.yml', (s) =>
      s.replace(
        /^( {6}IMAGE: ).*$/m,
        '$1${{ vars.GCP_REGION }}-docker.pkg.dev/${{ vars.GCP_PROJECT }}/gitops-ml/flight-delay-api:v0.1.0',
      ),
    );
    const { r } = await deployRehearsal(dir);
    assert.equal(r.ok, false);
    const failure = r.failures.join('\n');
    assert.match(failure, /job deploy: step "Deploy \(rolling\) with smoke test and automatic rollback"/);
    assert.match(failure, /gitops-ml\/flight-delay-api:v0\.1\.0 is not in the registry/);
  },
);

test(
  'pull request (same repo → pr-report → pr-comment) rehearses green; break 2 reintroduced (no dry run, no token) fails at the report step',
  { timeout: 300_000 },
  async () => {
    const run = async (workflowsDir?: string) => {
      const r = await rehearse({
        source: REPO,
        workflow: 'pr-comment',
        event: 'workflow_run',
        workflowsDir,
        npmRecord: BOUNDED,
        print: () => {},
      });
      temps.push(r.sandbox.root);
      return r;
    };
    const good = await run();
    assert.deepEqual(good.failures, []);
    const comments = [...good.sandbox.fake.issueComments.values()].flat();
    assert.equal(comments.length, 1, 'one sticky comment posted by the workflow_run relay');
    assert.ok(
      good.sandbox.fake.calls.some((c) => c.method === 'GET' && /\/pulls\/42$/.test(c.path)),
      'the relay checked the PR head with gh api',
    );
    const dir = await brokenCopy('pr-report.yml', (s) => s.replace(/^ +REPORT_DRY_RUN: '1'\n/m, ''));
    const bad = await run(dir);
    assert.equal(bad.ok, false);
    assert.match(
      bad.failures.join('\n'),
      /pr-report\.yml job report: step "Job summary and pr-comment\.md": .*GITHUB_TOKEN is empty/,
    );
  },
);

test('in every job of every shipped workflow, actions/checkout comes before any step that writes into the workspace', async () => {
  const problems: string[] = [];
  for (const f of (await readdir(WORKFLOWS)).filter((x) => x.endsWith('.yml')))
    problems.push(...checkoutOrderProblems(await readFile(join(WORKFLOWS, f), 'utf8'), f));
  assert.deepEqual(problems, []);
  // The check is not vacuous: a guard that only prints may precede checkout, a script that writes may not.
  const wf = (pre: string) =>
    `on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n${pre}      - uses: actions/checkout@${'a'.repeat(40)}\n`;
  assert.deepEqual(checkoutOrderProblems(wf('      - run: |\n          echo "::error::no"\n          exit 1\n')), []);
  assert.equal(checkoutOrderProblems(wf('      - run: echo hi > notes.txt\n')).length, 1);
  assert.equal(checkoutOrderProblems(wf(`      - uses: actions/download-artifact@${'b'.repeat(40)}\n`)).length, 1);
});
