/**
 * What the rehearsal enforces as GitHub does, unit by unit: GITHUB_TOKEN permissions and the API's
 * scope checks (403 "Resource not accessible by integration"), the runner's shells, runs-on
 * labels, dispatch inputs, concurrency groups and the references GitHub evaluates to ''.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGitHub } from '../testing/github/fake-github.ts';
import type { ExprContext } from './expr.ts';
import { RESTRICTED_DEFAULT, allows, tokenPermissions } from './permissions.ts';
import { anotherEvent, checkConcurrency, dispatchInputs, pipefailProblems, referenceProblems } from './preflight.ts';
import { githubContext } from './run.ts';
import { pickRunner } from './runners.ts';
import { hasPipefail, shellCommand } from './shell.ts';
import { loadWorkflow } from './workflow.ts';
import type { RehearsalEvent } from './types.ts';

test('permissions: job replaces workflow, {} is none, absent is the restricted default, fork PRs read-only', () => {
  assert.deepEqual(tokenPermissions(undefined, { fork: false }), RESTRICTED_DEFAULT);
  assert.equal(RESTRICTED_DEFAULT.contents, 'read');
  assert.equal(RESTRICTED_DEFAULT['pull-requests'], 'none');
  const none = tokenPermissions({}, { fork: false });
  assert.ok(!allows(none, 'contents', 'read') && allows(none, 'metadata', 'read'));
  const mapped = tokenPermissions({ 'id-token': 'write' }, { fork: false });
  assert.equal(mapped.contents, 'none', 'a scope the mapping does not name is none');
  assert.equal(tokenPermissions('write-all', { fork: false }).statuses, 'write');
  assert.equal(tokenPermissions('read-all', { fork: false }).actions, 'read');
  const fork = tokenPermissions({ contents: 'write', 'pull-requests': 'write', 'id-token': 'write' }, { fork: true });
  assert.deepEqual([fork.contents, fork['pull-requests'], fork['id-token']], ['read', 'read', 'none']);
  assert.throws(() => tokenPermissions({ content: 'read' }, { fork: false }), /"content" is not a GITHUB_TOKEN scope/);
});

test('the loopback API checks each endpoint against its scope, as GitHub answers an installation token', async () => {
  const f = await startFakeGitHub({ strict: true });
  try {
    f.pulls.set('acme/r#42', { number: 42, head: { sha: 'a'.repeat(40), ref: 'b' }, base: { ref: 'main' } });
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${f.url}${path}`, {
        method,
        headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, accepted: res.headers.get('x-accepted-github-permissions'), body: await res.json() };
    };
    f.grant('ghs_read', { ...tokenPermissions({ contents: 'read' }, { fork: false }) }, 'ci.yml job test');
    f.grant('ghs_pr', { ...tokenPermissions({ 'pull-requests': 'write' }, { fork: false }) }, 'x');
    assert.equal((await call('ghs_unknown', 'GET', '/repos/acme/r/pulls/42')).status, 401);
    const refused = await call('ghs_read', 'POST', '/repos/acme/r/issues/42/comments', { body: 'x' });
    assert.equal(refused.status, 403);
    assert.equal((refused.body as { message: string }).message, 'Resource not accessible by integration');
    assert.equal(refused.accepted, 'issues=write; pull_requests=write');
    assert.equal(f.denials.at(-1)?.holder, 'ci.yml job test');
    assert.equal((await call('ghs_read', 'GET', '/repos/acme/r/pulls/42')).status, 403, 'pulls need pull-requests');
    assert.equal((await call('ghs_pr', 'POST', '/repos/acme/r/issues/42/comments', { body: 'x' })).status, 201);
    assert.equal(
      (await call('ghs_pr', 'POST', '/repos/acme/r/issues/7/comments', { body: 'x' })).status,
      403,
      'an issue that is no pull request needs issues',
    );
    assert.equal((await call('ghs_read', 'GET', `/repos/acme/r/commits/${'a'.repeat(40)}/comments`)).status, 200);
    assert.equal((await call('ghs_read', 'POST', `/repos/acme/r/commits/${'a'.repeat(40)}/comments`, {})).status, 403);
    assert.equal((await call('ghs_read', 'POST', `/repos/acme/r/statuses/${'a'.repeat(40)}`, {})).status, 403);
    assert.equal((await call('ghs_read', 'GET', '/repos/acme/r/actions/runs/1/artifacts')).status, 403);
    assert.equal((await call('ghs_read', 'POST', '/repos/acme/r/git/refs', {})).status, 403);
    assert.equal((await call('ghs_read', 'GET', '/orgs/acme/packages')).status, 403, 'packages need packages');
    f.revoke('ghs_pr');
    assert.equal((await call('ghs_pr', 'GET', '/repos/acme/r/pulls/42')).status, 401, 'a job token ends with its job');
  } finally {
    await f.close();
  }
});

test('shells as the runner starts them: no shell: is bash -e (no pipefail), bash adds pipefail, sh -e, a template needs {0}', () => {
  assert.deepEqual(shellCommand(undefined, '/t/s.sh'), ['bash', '-e', '/t/s.sh']);
  assert.deepEqual(shellCommand('bash', '/t/s.sh'), [
    'bash',
    '--noprofile',
    '--norc',
    '-e',
    '-o',
    'pipefail',
    '/t/s.sh',
  ]);
  assert.deepEqual(shellCommand('sh', '/t/s.sh'), ['sh', '-e', '/t/s.sh']);
  assert.deepEqual(shellCommand('python', '/t/s.py'), ['python3', '/t/s.py']);
  assert.deepEqual(shellCommand('bash -x {0}', '/t/s.sh'), ['bash', '-x', '/t/s.sh']);
  assert.throws(() => shellCommand('bash -x', '/t/s.sh'), /format string containing '\{0\}'/);
  assert.deepEqual([undefined, 'bash', 'sh', 'bash -eo pipefail {0}', 'bash -e {0}'].map(hasPipefail), [
    false,
    true,
    false,
    true,
    false,
  ]);
});

test('runs-on: GitHub-hosted labels, retired images, declared self-hosted runners; anything else queues forever', () => {
  assert.deepEqual(pickRunner('ubuntu-24.04').os, 'Linux');
  assert.equal(pickRunner('ubuntu-24.04-arm').arch, 'ARM64');
  assert.equal(pickRunner('macos-latest').os, 'macOS');
  assert.throws(() => pickRunner('ubuntu-20.04'), /retired/);
  assert.throws(() => pickRunner('ubuntu-latest-8core'), /no runner has the label/);
  assert.throws(() => pickRunner(['ubuntu-24.04', 'gpu']), /must stand alone/);
  assert.throws(() => pickRunner(['self-hosted', 'gpu']), /self-hosted here: none/);
  const gpu = [{ labels: ['self-hosted', 'linux', 'x64', 'gpu'] }];
  assert.equal(pickRunner(['self-hosted', 'GPU'], gpu).environment, 'self-hosted');
});

const event = (name: string, extra: Partial<RehearsalEvent> = {}): RehearsalEvent => ({
  name,
  ref: 'refs/heads/main',
  sha: 'a'.repeat(40),
  actor: 'ada',
  payload: {},
  ...extra,
});

test('workflow_dispatch inputs: refused as the dispatch API refuses them; the inputs context is typed', async () => {
  const wf = await loadWorkflow(
    'd.yml',
    `on:
  workflow_dispatch:
    inputs:
      strategy: { type: choice, options: [rolling, canary], default: rolling }
      dry: { type: boolean, default: false }
      n: { type: number, required: true }
jobs:
  j: { runs-on: ubuntu-24.04, steps: [{ run: 'true' }] }
`,
  );
  const ok = dispatchInputs(wf, event('workflow_dispatch', { inputs: { n: '3', dry: 'true' } }));
  assert.deepEqual(ok, { inputs: { strategy: 'rolling', dry: true, n: 3 }, problems: [] });
  const bad = dispatchInputs(wf, event('workflow_dispatch', { inputs: { strategy: 'blue', dry: 'yes', x: '1' } }));
  assert.deepEqual(
    bad.problems.map((p) => p.replace(/^workflow_dispatch refused \(HTTP 422\): /, '').replace(/ \(.*$/, '')),
    [
      'Unexpected inputs provided: ["x"]',
      "Provided value 'blue' for input 'strategy' not in the list of allowed values",
      "Provided value 'yes' for input 'dry' is not a boolean",
      "Required input 'n' not provided",
    ],
  );
  assert.deepEqual(dispatchInputs(wf, event('push')), { inputs: {}, problems: [] });
});

test('concurrency: empty groups, and groups shared by every PR (or every branch, when cancelling), are errors', async () => {
  const wf = await loadWorkflow(
    'c.yml',
    'on: [push, pull_request]\njobs:\n  j: { runs-on: ubuntu-24.04, steps: [{ run: "true" }] }\n',
  );
  const pr = event('pull_request', {
    ref: 'refs/pull/42/merge',
    payload: {
      number: 42,
      pull_request: { number: 42, head: { ref: 'feature', sha: 'b'.repeat(40) }, base: { ref: 'main' } },
    },
  });
  const ctx = (e: RehearsalEvent): ExprContext => ({
    contexts: { github: githubContext(wf, e, 1, '/e.json', 'acme/r'), inputs: {}, vars: {} },
    status: 'success',
    workspace: '/nonexistent',
  });
  const check = (group: string, e: RehearsalEvent, cancel = true) =>
    checkConcurrency({ group, 'cancel-in-progress': cancel }, 'c.yml', e, ctx(e), ctx(anotherEvent(e)))!.problems;
  assert.deepEqual(check('ci-${{ github.event.pull_request.number || github.ref }}', pr), []);
  assert.deepEqual(check('ci-${{ github.head_ref }}', pr), []);
  assert.match(check('ci', pr)[0], /same for every pull request/);
  assert.match(check('ci-${{ github.base_ref }}', pr)[0], /same for every pull request/);
  assert.match(check('${{ github.event.pull_request.number }}', event('push'))[0], /empty string on push/);
  assert.match(check('deploy', event('push'))[0], /same for every branch/);
  assert.deepEqual(check('deploy', event('push'), false), [], 'one deploy at a time: a constant group that queues');
});

test("references GitHub evaluates to '': needs, job and step outputs, inputs; and cmd | tee without pipefail", async () => {
  const wf = await loadWorkflow(
    'r.yml',
    `on: { workflow_dispatch: { inputs: { n: { type: string } } } }
jobs:
  a:
    runs-on: ubuntu-24.04
    outputs: { sha: '\${{ steps.head.outputs.sha }}', bad: '\${{ steps.head.outputs.commit }}' }
    steps:
      - id: head
        run: echo "sha=x" >> "$GITHUB_OUTPUT"
      - run: echo \${{ inputs.n }} \${{ inputs.m }} \${{ steps.later.outcome }} | tee log
      - id: later
        run: 'true'
  b:
    needs: a
    runs-on: ubuntu-24.04
    steps:
      - run: echo \${{ needs.a.outputs.sha }} \${{ needs.a.outputs.nope }}
      - shell: bash
        run: false | tee log
`,
  );
  const problems = referenceProblems(wf, {}).map((p) => p.replace(/^r\.yml /, ''));
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems.join('\n'), /steps.head.outputs.commit: step .* never writes "commit"/);
  assert.match(problems.join('\n'), /inputs.m is not an input/);
  assert.match(problems.join('\n'), /steps.later: no earlier step of job a has id "later"/);
  assert.match(problems.join('\n'), /needs.a.outputs.nope: job a has no output "nope"/);
  const ctx: ExprContext = { contexts: {}, status: 'success', workspace: '/' };
  const tee = pipefailProblems(wf, ctx);
  assert.equal(tee.length, 1, 'shell: bash has pipefail');
  assert.match(tee[0], /job a step 2 .*bash -e \{0\}.*no pipefail/);
});
