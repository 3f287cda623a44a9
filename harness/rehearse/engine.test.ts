/**
 * The rehearsal's runner semantics, each against what GitHub documents: file commands, expressions
 * and `if:`, trigger filters, and the stand-ins' effect on the workspace (checkout empties a
 * workspace without .git; auth and get-gke-credentials write into it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseKeyValueFile, parsePathFile, prependPath, scanWorkflowCommands } from './file-commands.ts';
import { evaluate, evaluateIf, hashFiles, type ExprContext } from './expr.ts';
import { triggerMismatch } from './run.ts';
import { loadWorkflow } from './workflow.ts';
import { checkout } from './actions/checkout.ts';
import { auth, getGkeCredentials } from './actions/google.ts';
import type { ActionContext } from './actions/types.ts';
import type { RehearsalEvent, Sandbox } from './types.ts';
import { tempDir } from '../testing/lifecycle.ts';

test('GITHUB_ENV / GITHUB_OUTPUT: name=value and the heredoc form; a missing delimiter is an error', () => {
  assert.deepEqual(parseKeyValueFile('a=1\nb=x=y\nbody<<EOF\nline 1\n\nline 3\nEOF\nc=\n', 'GITHUB_OUTPUT'), {
    a: '1',
    b: 'x=y',
    body: 'line 1\n\nline 3',
    c: '',
  });
  assert.deepEqual(
    parseKeyValueFile('k<<ghadelimiter_1\nv=w\nghadelimiter_1\n', 'GITHUB_ENV'),
    { k: 'v=w' },
    'the first = inside a heredoc body is data',
  );
  assert.throws(() => parseKeyValueFile('x<<END\nno end\n', 'GITHUB_ENV'), /matching delimiter not found 'END'/);
  assert.throws(() => parseKeyValueFile('just words\n', 'GITHUB_OUTPUT'), /GITHUB_OUTPUT: invalid format 'just words'/);
});

test('GITHUB_PATH: each line goes in front, the last one first; workflow commands are read from the log', () => {
  assert.deepEqual(parsePathFile('/a\n\n /b \n'), ['/a', '/b']);
  assert.equal(prependPath('/usr/bin', ['/a', '/b']), '/b:/a:/usr/bin');
  const masks = new Set<string>();
  assert.deepEqual(scanWorkflowCommands('x\n::error::bad thing\n::warning file=a::w\n::add-mask::s3cret\n', masks), [
    { level: 'error', message: 'bad thing' },
    { level: 'warning', message: 'w' },
  ]);
  assert.ok(masks.has('s3cret'));
});

const ctx = (
  contexts: ExprContext['contexts'],
  status: ExprContext['status'] = 'success',
  workspace = '/nonexistent',
): ExprContext => ({ contexts, status, workspace });

test('expressions: GitHub semantics for ||, format, missing properties, comparisons', () => {
  const c = ctx({
    vars: { GCS_BUCKET: 'b' },
    inputs: {},
    github: { event: { pull_request: { head: { repo: { full_name: 'm/r' } } } }, repository: 'a/r' },
  });
  assert.equal(evaluate("vars.REGISTRY_URL || format('gs://{0}/registry', vars.GCS_BUCKET)", c), 'gs://b/registry');
  assert.equal(evaluate("inputs.strategy || vars.DEPLOY_STRATEGY || 'rolling'", c), 'rolling');
  assert.equal(evaluate('github.event.pull_request.head.repo.full_name != github.repository', c), true);
  assert.equal(evaluate("'ABC' == 'abc'", c), true, 'string comparison ignores case');
  assert.throws(() => evaluate('nosuch.thing', c), /Unrecognized named-value: 'nosuch'/);
});

test('if: without a status function means success() && …; always() runs after a failure', () => {
  const c = ctx({ steps: { plan: { outputs: { file: '/tmp/p.md' } } } }, 'failure');
  assert.equal(evaluateIf(undefined, c), false);
  assert.equal(evaluateIf("steps.plan.outputs.file != ''", c), false);
  assert.equal(evaluateIf("always() && steps.plan.outputs.file != ''", c), true);
  assert.equal(evaluateIf('failure()', c), true);
  assert.equal(evaluateIf('${{ true }}', ctx({})), true);
});

test('hashFiles: SHA-256 of the matching files; empty when nothing matches', async () => {
  const dir = await tempDir('hashfiles-');
  await writeFile(join(dir, 'package-lock.json'), '{}');
  const a = hashFiles(dir, ['**/package-lock.json']);
  assert.match(a, /^[0-9a-f]{64}$/);
  await writeFile(join(dir, 'package-lock.json'), '{"x":1}');
  assert.notEqual(hashFiles(dir, ['**/package-lock.json']), a);
  assert.equal(hashFiles(dir, ['*.nothing']), '');
});

test('trigger filters: branches, types, workflow_run names and paths decide whether a workflow runs', async () => {
  const wf = await loadWorkflow(join(import.meta.dirname, '..', '..', '.github', 'workflows', 'infra.yml'));
  const push = (ref: string): RehearsalEvent => ({ name: 'push', ref, sha: 'a'.repeat(40), actor: 'x', payload: {} });
  assert.equal(triggerMismatch(wf, push('refs/heads/main'), ['infra/cdktf/stack.ts']), null);
  assert.match(
    triggerMismatch(wf, push('refs/heads/main'), ['README.md']) ?? '',
    /no changed file matches paths: infra\/\*\*/,
  );
  assert.match(
    triggerMismatch(wf, push('refs/heads/model'), ['infra/x']) ?? '',
    /branch model is not in branches: main/,
  );
  assert.match(triggerMismatch(wf, { ...push('refs/heads/main'), name: 'schedule' }) ?? '', /does not run on schedule/);
  assert.match(
    triggerMismatch(wf, push('refs/tags/v1')) ?? '',
    /a tag push \(v1\); the workflow filters branches only/,
  );
  // registry-sync.yml listens to GTO's tags only (`**` spans the `/` an artifact name may hold).
  const sync = await loadWorkflow(join(import.meta.dirname, '..', '..', '.github', 'workflows', 'registry-sync.yml'));
  for (const tag of ['flight-delay@v2.0.1', 'flight-delay#production#4', 'flight-delay#staging!#5', 'models/a@v1.0.0'])
    assert.equal(triggerMismatch(sync, push(`refs/tags/${tag}`)), null, tag);
  assert.match(
    triggerMismatch(sync, push('refs/tags/release-1')) ?? '',
    /tag release-1 is not in tags: \*\*@\*\*, \*\*#\*\*/,
  );
  assert.match(triggerMismatch(sync, push('refs/heads/model')) ?? '', /a branch push; the workflow filters tags only/);
});

function actionContext(
  workspace: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): ActionContext {
  const logs: string[] = [];
  return {
    action: 'x',
    version: 'v',
    inputs,
    workspace,
    runnerTemp: workspace,
    env: { PATH: process.env.PATH ?? '', ...env },
    github: { repository: 'acme/gitops-ml', ref: 'refs/heads/main', sha: '' },
    event: { name: 'push', ref: 'refs/heads/main', sha: '', actor: 'a', payload: {} },
    sandbox: { origin: '' } as Sandbox,
    runId: 1,
    log: (l) => logs.push(l),
  };
}

test('auth writes gha-creds-<hex>.json into the workspace and exports it; get-gke-credentials writes a kubeconfig there', async () => {
  const ws = await tempDir('auth-');
  const inputs = {
    workload_identity_provider: 'projects/1/locations/global/workloadIdentityPools/p/providers/g',
    service_account: 'ci-deploy@acme-ml.iam.gserviceaccount.com',
    create_credentials_file: 'true',
    export_environment_variables: 'true',
  };
  await assert.rejects(auth(actionContext(ws, inputs)), /id-token: write/, 'no OIDC token without id-token: write');
  const a = await auth(actionContext(ws, inputs, { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://x' }));
  const creds = a.env!.GOOGLE_APPLICATION_CREDENTIALS;
  assert.match(creds, new RegExp(`^${ws}/gha-creds-[0-9a-f]{16}\\.json$`));
  assert.equal(a.env!.CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE, creds);
  assert.equal(a.env!.CLOUDSDK_CORE_PROJECT, 'acme-ml', 'project from the service account e-mail');
  const g = await getGkeCredentials(
    actionContext(ws, { cluster_name: 'c', location: 'europe-west1', project_id: 'acme-ml' }, a.env),
  );
  assert.match(g.env!.KUBECONFIG, new RegExp(`^${ws}/gha-kubeconfig-[0-9a-f]{16}$`));
  await assert.rejects(
    getGkeCredentials(
      actionContext(
        ws,
        { cluster_name: 'c', location: 'l', project_id: 'p' },
        { GOOGLE_GHA_CREDS_PATH: join(ws, 'gone.json') },
      ),
    ),
    /does not exist/,
  );
});

test('checkout empties a workspace without .git (credentials included) and cleans untracked files in a clone', async () => {
  const root = await tempDir('checkout-');
  const origin = join(root, 'origin.git');
  const seed = join(root, 'seed');
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
  await mkdir(seed);
  git(root, 'init', '-q', '--bare', origin);
  git(seed, 'init', '-q', '-b', 'main');
  await writeFile(join(seed, 'README.md'), 'hi\n');
  git(seed, 'add', '.');
  git(seed, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'c');
  const sha = git(seed, 'rev-parse', 'HEAD');
  git(seed, 'push', '-q', origin, 'HEAD:refs/heads/main');
  const cfg = join(root, 'gitconfig');
  await writeFile(
    cfg,
    `[url "file://${origin}"]\n\tinsteadOf = https://github.com/acme/gitops-ml\n[protocol "file"]\n\tallow = always\n`,
  );
  const ws = join(root, 'ws');
  await mkdir(ws);
  await writeFile(join(ws, 'gha-creds-0123456789abcdef.json'), '{}');
  const c = actionContext(
    ws,
    { 'fetch-depth': '1', 'persist-credentials': 'false' },
    { GIT_CONFIG_GLOBAL: cfg, HOME: root },
  );
  c.github.sha = sha;
  c.sandbox = { origin } as Sandbox;
  await checkout(c);
  assert.deepEqual((await readdir(ws)).sort(), ['.git', 'README.md'], 'the credentials file is gone');
  await writeFile(join(ws, 'gha-kubeconfig-0123456789abcdef'), 'x');
  await checkout(c);
  assert.ok(!existsSync(join(ws, 'gha-kubeconfig-0123456789abcdef')), 'git clean -ffdx removes untracked files too');
});
