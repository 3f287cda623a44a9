/**
 * The GitHub Actions workflows, checked offline: each file is YAML that GitHub's workflow schema
 * accepts (`@action-validator/core`), triggers on what the GitOps flow needs, runs only scripts
 * package.json defines, pins every third-party action to a commit, bounds every job in time and
 * widens token permissions only per job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { validateWorkflow } from '@action-validator/core';

const here = dirname(fileURLToPath(import.meta.url));
const workflowDir = join(here, 'workflows');
const scripts: Record<string, string> = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')).scripts;

type Permissions = string | Record<string, string> | undefined;
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  'runs-on'?: string;
  uses?: string;
  'timeout-minutes'?: number;
  permissions?: Permissions;
  environment?: string | { name: string };
  needs?: string | string[];
  if?: string;
  steps?: Step[];
}
/** One trigger under `on:`, with the keys these tests read. */
interface Trigger {
  branches?: string[];
  tags?: string[];
  paths?: string[];
  types?: string[];
  workflows?: string[];
  inputs?: Record<string, { options?: string[] }>;
}
interface Workflow {
  name: string;
  on: Record<string, Trigger>;
  permissions?: Permissions;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean | string };
  jobs: Record<string, Job>;
  env?: Record<string, string>;
}

const files = readdirSync(workflowDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const sources = new Map(files.map((f) => [f, readFileSync(join(workflowDir, f), 'utf8')]));
const workflows = new Map<string, Workflow>();
for (const [file, source] of sources) {
  const doc = parseDocument(source);
  if (doc.errors.length === 0) workflows.set(file, doc.toJS() as Workflow);
}

function wf(file: string): Workflow {
  const w = workflows.get(file);
  assert.ok(w, `${file} is missing or is not valid YAML`);
  return w;
}
const allSteps = (w: Workflow): Step[] => Object.values(w.jobs).flatMap((j) => j.steps ?? []);
const envName = (j: Job) => (typeof j.environment === 'string' ? j.environment : j.environment?.name);
const usesOf = (j: Job, action: string) => (j.steps ?? []).some((s) => s.uses?.startsWith(`${action}@`));

test('the five GitOps workflows and the PR comment relay exist', () => {
  for (const f of ['ci.yml', 'train.yml', 'pr-report.yml', 'pr-comment.yml', 'deploy-api.yml', 'infra.yml']) {
    assert.ok(files.includes(f), `.github/workflows/${f} is missing`);
  }
});

for (const [file, source] of sources) {
  test(`${file}: YAML parses and GitHub's workflow schema accepts it`, () => {
    const doc = parseDocument(source);
    assert.deepEqual(
      doc.errors.map((e) => e.message),
      [],
    );
    const state = validateWorkflow(source);
    assert.deepEqual(state.errors, [], JSON.stringify(state.errors, null, 2));
  });
}

test('the schema validator does reject a broken workflow (control)', () => {
  const state = validateWorkflow('on: push\njobs:\n  build:\n    steps: []\n');
  assert.ok(state.errors.length > 0);
});

test('train.yml: push to model, a schedule, manual dispatch with max_batches, repository_dispatch retrain', () => {
  const w = wf('train.yml');
  const { on, concurrency } = w;
  assert.deepEqual(on.push.branches, ['model']);
  assert.ok(Array.isArray(on.schedule) && on.schedule.length > 0 && typeof on.schedule[0].cron === 'string');
  assert.ok('workflow_dispatch' in on);
  assert.ok(on.workflow_dispatch.inputs?.max_batches);
  assert.ok(on.repository_dispatch.types?.includes('retrain'));
  assert.equal(
    concurrency?.['cancel-in-progress'],
    false,
    'a cancelled training run could leave the DVC remote ahead of dvc.lock',
  );
  // Every run trains the one `model` branch (whatever branch it was dispatched from): one queue.
  assert.equal(concurrency?.group, 'train-model');
  assert.equal(
    w.env?.TRAIN_BRANCH,
    'model',
    'Run workflow dispatches from main by default; results must still land on model',
  );
});

test('train.yml: results are committed by the bot with [skip ci], and bot commits do not retrain', () => {
  const w = wf('train.yml');
  const runs = allSteps(w)
    .map((s) => s.run ?? '')
    .join('\n');
  assert.match(runs, /git commit -m "[^"]*\[skip ci\]/);
  assert.match(runs, /git add dvc\.lock data\.dvc metrics/);
  assert.match(w.jobs.train.if ?? '', /head_commit\.author\.name != 'github-actions\[bot\]'/);
  assert.match(runs, /npm run gh:tag/);
  assert.match(runs, /npm run gh:publish-report/);
  assert.match(runs, /dvc pull/);
  assert.match(runs, /dvc push/);
});

test('train.yml: the registry follows the tags (sync after publish), and a failed tag step still posts the report', () => {
  const { jobs } = wf('train.yml');
  const steps = jobs.publish.steps as { name?: string; run?: string; if?: string }[];
  const tag = steps.findIndex((s) => s.run === 'npm run gh:tag');
  const report = steps.findIndex((s) => s.run === 'npm run gh:publish-report');
  assert.ok(tag >= 0 && report > tag);
  // Without a status function GitHub skips a step once an earlier one failed.
  assert.match(steps[report].if ?? '', /!cancelled\(\)|always\(\)/, 'the report runs after a failed gh:tag');
  assert.deepEqual(jobs.sync.needs, ['train', 'publish']);
  assert.match(
    jobs.sync.if ?? '',
    /!cancelled\(\)/,
    'the registry follows whatever tags exist, also after a failed publish',
  );
  assert.ok((jobs.sync.steps as { run?: string }[]).some((s) => s.run === 'npm run registry -- sync-from-tags'));
  // Someone else's tag push (gto assign … --push) makes the registry follow as well.
  const sync = wf('registry-sync.yml');
  assert.deepEqual(sync.on.push.tags, ['**@**', '**#**']);
  assert.equal(sync.concurrency?.['cancel-in-progress'], false);
});

test('train.yml: cloud identity and write access never share a job', () => {
  const { jobs } = wf('train.yml');
  for (const [name, job] of Object.entries(jobs)) {
    const p = job.permissions as Record<string, string>;
    assert.ok(
      !(p['id-token'] === 'write' && p.contents === 'write'),
      `job ${name} holds both id-token and contents write`,
    );
  }
  assert.equal((jobs.train.permissions as Record<string, string>)['id-token'], 'write');
  assert.ok(usesOf(jobs.train, 'google-github-actions/auth'));
  assert.equal((jobs.publish.permissions as Record<string, string>).contents, 'write');
});

test('deploy-api.yml: push to api; one deploy at a time; production environment; the deploy tool (smoke test + rollback)', () => {
  const w = wf('deploy-api.yml');
  assert.deepEqual(w.on.push.branches, ['api']);
  assert.equal(w.concurrency?.['cancel-in-progress'], false);
  assert.equal(envName(w.jobs.deploy), 'production');
  assert.ok(usesOf(w.jobs.deploy, 'google-github-actions/get-gke-credentials'));
  const runs = allSteps(w)
    .map((s) => s.run ?? '')
    .join('\n');
  // Rollout, smoke test and rollback live in infra/deploy (tested there with an injected runner).
  for (const needle of [
    'docker build -f api/Dockerfile',
    'npm run --silent deploy -- --strategy "$STRATEGY" --image "$IMAGE"',
    'registry -- list --json',
  ]) {
    assert.ok(runs.includes(needle), `deploy-api.yml never runs ${needle}`);
  }
  assert.deepEqual(w.on.workflow_dispatch.inputs?.strategy.options, ['rolling', 'blue-green', 'canary']);
});

test('pr-report.yml runs unprivileged on pull_request; pr-comment.yml relays it on workflow_run', () => {
  const report = wf('pr-report.yml');
  assert.ok('pull_request' in report.on);
  assert.ok(!('pull_request_target' in report.on), 'PR code must never run with a privileged token');
  assert.deepEqual(report.permissions, { contents: 'read' });
  for (const job of Object.values(report.jobs)) assert.deepEqual(job.permissions, { contents: 'read' });
  assert.doesNotMatch(sources.get('pr-report.yml')!, /secrets\./);
  const runs = allSteps(report)
    .map((s) => s.run ?? '')
    .join('\n');
  assert.match(runs, /git show "origin\/\$\{BASE_REF\}:/);
  assert.ok(report.jobs.report.steps?.some((s) => s.uses?.startsWith('actions/upload-artifact@')));

  const relay = wf('pr-comment.yml');
  assert.deepEqual(relay.on.workflow_run.workflows, [report.name]);
  assert.deepEqual(relay.on.workflow_run.types, ['completed']);
  const perms = relay.jobs.comment.permissions as Record<string, string>;
  assert.equal(perms['pull-requests'], 'write');
  assert.notEqual(perms.contents, 'write');
  // The privileged relay runs the default branch's code, never the PR head.
  for (const s of allSteps(relay)) if (s.uses?.startsWith('actions/checkout@')) assert.equal(s.with?.ref, undefined);
});

test('infra.yml: plan on PRs touching infra/, apply on main behind a protected environment', () => {
  const w = wf('infra.yml');
  assert.deepEqual(w.on.pull_request.paths, ['infra/**']);
  assert.deepEqual(w.on.push.branches, ['main']);
  assert.deepEqual(w.on.push.paths, ['infra/**']);
  const runs = (job: Job) => (job.steps ?? []).map((s) => s.run ?? '').join('\n');
  assert.match(runs(w.jobs.plan), /node --import tsx cdktf\/main.ts/);
  assert.match(runs(w.jobs.plan), /terraform plan/);
  assert.match(runs(w.jobs.apply), /terraform apply/);
  assert.doesNotMatch(runs(w.jobs.plan), /terraform apply/);
  assert.equal(envName(w.jobs.apply), 'infra-production');
  assert.equal(w.jobs.plan.environment, undefined);
});

test('infra.yml: the read-only planner plans with -lock=false (it cannot create the lock object); apply locks', () => {
  const w = wf('infra.yml');
  // Commands only: shell comments may mention the flags.
  const commands = (job: Job, verb: string) =>
    (job.steps ?? [])
      .flatMap((s) => (s.run ?? '').split('\n'))
      .filter((line) => !line.trim().startsWith('#') && new RegExp(`\\bterraform ${verb}\\b`).test(line));
  const plans = commands(w.jobs.plan, 'plan');
  assert.ok(plans.length > 0, 'the plan job runs terraform plan');
  for (const line of plans) {
    assert.match(line, /\s-lock=false(\s|$)/, `plan without -lock=false: ${line.trim()}`);
    assert.doesNotMatch(line, /-lock-timeout/, 'a lock timeout means nothing without a lock');
  }
  const applies = commands(w.jobs.apply, 'apply');
  assert.ok(applies.length > 0, 'the apply job runs terraform apply');
  for (const line of applies) assert.doesNotMatch(line, /-lock=false/, 'apply must hold the state lock');
  for (const job of [w.jobs.plan, w.jobs.apply])
    for (const line of commands(job, 'init')) assert.doesNotMatch(line, /-lock=false/);
});

test('ci.yml: push and pull_request, read-only, typecheck and tests', () => {
  const w = wf('ci.yml');
  assert.ok('push' in w.on && 'pull_request' in w.on);
  assert.deepEqual(w.permissions, { contents: 'read' });
  const node = allSteps(w).find((s) => s.uses?.startsWith('actions/setup-node@'));
  assert.equal(node?.with?.cache, 'npm');
  assert.ok(allSteps(w).some((s) => s.run?.includes('bash .ci/run')));
});

test('every `npm run <script>` names a script in package.json', () => {
  for (const [file, w] of workflows) {
    for (const step of allSteps(w)) {
      for (const m of (step.run ?? '').matchAll(/\bnpm run(?:\s+(?:--silent|-s))?\s+([\w:.-]+)/g)) {
        assert.ok(m[1] in scripts, `${file}: \`npm run ${m[1]}\` is not a script in package.json`);
      }
    }
  }
});

test('every third-party action is pinned to a full commit SHA with a version comment', () => {
  for (const [file, source] of sources) {
    const w = wf(file);
    const refs = [...Object.values(w.jobs).map((j) => j.uses), ...allSteps(w).map((s) => s.uses)].filter(
      (u): u is string => !!u,
    );
    for (const ref of refs) {
      if (ref.startsWith('./') || ref.startsWith('docker://')) continue;
      assert.match(ref, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${file}: ${ref} is not pinned to a 40-hex commit`);
    }
    for (const line of source.split('\n').filter((l) => /^\s*(-\s+)?uses:\s+[\w.-]+\/[\w.-]/.test(l))) {
      assert.match(line, /@[0-9a-f]{40} # v\d/, `${file}: "${line.trim()}" needs a "# vX" comment`);
    }
  }
});

// Node 20 reached end of life in April 2026; 24 is the current LTS, named once in .nvmrc.
const NODE_LTS = readFileSync(join(here, '..', '.nvmrc'), 'utf8').trim();

test(`every workflow runs Node ${NODE_LTS} (setup-node and container images), and so do engines and @types/node`, () => {
  assert.equal(NODE_LTS, '24');
  const pkg = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'));
  assert.equal(pkg.engines.node, `>=${NODE_LTS}`);
  assert.match(pkg.devDependencies['@types/node'], new RegExp(`^\\^${NODE_LTS}\\.`));
  for (const [file, w] of workflows) {
    for (const step of allSteps(w).filter((s) => s.uses?.startsWith('actions/setup-node@'))) {
      assert.equal(
        step.with?.['node-version-file'],
        '.nvmrc',
        `${file}: setup-node reads the one Node version from .nvmrc`,
      );
      assert.equal(step.with?.['node-version'], undefined, `${file}: setup-node names no version of its own`);
    }
    for (const [name, job] of Object.entries(w.jobs) as [string, Job & { container?: { image?: string } | string }][]) {
      const image = typeof job.container === 'string' ? job.container : job.container?.image;
      if (image?.startsWith('node:'))
        assert.match(image, new RegExp(`^node:${NODE_LTS}[-.]`), `${file}: job ${name} container ${image}`);
    }
  }
});

test('every job has a timeout', () => {
  for (const [file, w] of workflows) {
    for (const [name, job] of Object.entries(w.jobs)) {
      const t = job['timeout-minutes'];
      assert.ok(typeof t === 'number' && t > 0 && t <= 180, `${file}: job ${name} needs timeout-minutes (got ${t})`);
    }
  }
});

test('token permissions: read-only or empty at the top, write only per job', () => {
  for (const [file, w] of workflows) {
    assert.ok(w.permissions !== undefined, `${file}: set top-level permissions ({} or read-only)`);
    assert.ok(
      typeof w.permissions === 'object',
      `${file}: top-level permissions ${JSON.stringify(w.permissions)} is not allowed`,
    );
    for (const [scope, level] of Object.entries(w.permissions)) {
      assert.ok(level === 'read' || level === 'none', `${file}: top-level ${scope}: ${level}`);
    }
    for (const [name, job] of Object.entries(w.jobs)) {
      assert.ok(
        job.permissions === undefined || typeof job.permissions === 'object',
        `${file}: job ${name} permissions must list scopes`,
      );
      const needsOidc = (job.steps ?? []).some((s) => s.uses?.startsWith('google-github-actions/auth@'));
      const p = job.permissions ?? {};
      assert.equal(
        p['id-token'] === 'write',
        needsOidc,
        `${file}: job ${name} id-token: write exactly when it authenticates to Google`,
      );
    }
  }
});

test('workflows that could race declare concurrency', () => {
  for (const file of ['train.yml', 'deploy-api.yml', 'infra.yml', 'pr-report.yml']) {
    assert.ok(wf(file).concurrency?.group, `${file} needs a concurrency group`);
  }
});

test('no run script interpolates event data (script injection): values go through env', () => {
  for (const [file, w] of workflows) {
    for (const step of allSteps(w)) {
      assert.doesNotMatch(
        step.run ?? '',
        /\$\{\{\s*(github\.event|inputs|github\.head_ref|steps|needs)/,
        `${file}: step "${step.name ?? step.run?.slice(0, 40)}"`,
      );
    }
  }
});

test('workload identity: Google auth uses WIF from repository variables, never a key', () => {
  for (const [file, w] of workflows) {
    for (const step of allSteps(w).filter((s) => s.uses?.startsWith('google-github-actions/auth@'))) {
      assert.match(String(step.with?.workload_identity_provider), /^\$\{\{ vars\./, file);
      assert.match(String(step.with?.service_account), /^\$\{\{ vars\./, file);
      assert.equal(step.with?.credentials_json, undefined, file);
    }
  }
});
