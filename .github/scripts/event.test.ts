import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseEvent, readEvent } from './event.ts';

const fixture = (name: string) => join(import.meta.dirname, 'testdata', 'events', name);
const read = (event: string, file: string, extra: Record<string, string> = {}) =>
  readEvent({ GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: fixture(file), ...extra });

test('push: branch, sha, before; a human commit is not a bot commit', async () => {
  assert.deepEqual(await read('push', 'push.json'), {
    kind: 'push',
    branch: 'model',
    tag: null,
    sha: '2222222222222222222222222222222222222222',
    before: '1111111111111111111111111111111111111111',
    botCommit: false,
  });
});

test('push by github-actions[bot] is a bot commit (the train workflow must not loop on it)', async () => {
  const e = await read('push', 'push-bot.json');
  assert.equal(e.kind === 'push' && e.botCommit, true);
});

test('push of a tag has no branch', () => {
  const e = parseEvent('push', { ref: 'refs/tags/flight-delay@v4.0.0', after: 'a', before: 'b' });
  assert.deepEqual(e, {
    kind: 'push',
    branch: null,
    tag: 'flight-delay@v4.0.0',
    sha: 'a',
    before: 'b',
    botCommit: false,
  });
});

test('pull_request from the same repository', async () => {
  assert.deepEqual(await read('pull_request', 'pull_request.json'), {
    kind: 'pull_request',
    number: 42,
    headSha: '5555555555555555555555555555555555555555',
    baseRef: 'model',
    headRepo: 'acme/gitops-ml',
    fork: false,
  });
});

test('pull_request from a fork is marked fork', async () => {
  const e = await read('pull_request', 'pull_request-fork.json');
  assert.equal(e.kind, 'pull_request');
  if (e.kind === 'pull_request') {
    assert.equal(e.fork, true);
    assert.equal(e.headRepo, 'mallory/gitops-ml');
    assert.equal(e.number, 43);
  }
});

test('schedule carries its cron line and the sha from the environment', async () => {
  assert.deepEqual(await read('schedule', 'schedule.json', { GITHUB_SHA: 'abc' }), {
    kind: 'schedule',
    cron: '17 3 * * 1',
    sha: 'abc',
  });
});

test('workflow_dispatch inputs', async () => {
  assert.deepEqual(await read('workflow_dispatch', 'workflow_dispatch.json'), {
    kind: 'workflow_dispatch',
    ref: 'refs/heads/model',
    inputs: { reason: 'new data landed', force: 'true' },
  });
});

test('repository_dispatch retrain with client_payload', async () => {
  const e = await read('repository_dispatch', 'repository_dispatch.json');
  assert.equal(e.kind, 'repository_dispatch');
  if (e.kind === 'repository_dispatch') {
    assert.equal(e.action, 'retrain');
    assert.deepEqual(e.clientPayload.reasons, ['dataset drift 0.67 >= 0.5 for 6 checks']);
  }
});

test('workflow_run: PR number and head sha of the triggering run', async () => {
  assert.deepEqual(await read('workflow_run', 'workflow_run.json'), {
    kind: 'workflow_run',
    workflow: 'pr-report',
    conclusion: 'success',
    prNumber: 42,
    headSha: '5555555555555555555555555555555555555555',
    headBranch: 'wider-mlp',
    fromFork: false,
  });
});

test('workflow_run from a fork: GitHub sends no pull_requests, PR_NUMBER fills in', async () => {
  const bare = await read('workflow_run', 'workflow_run-fork.json');
  assert.equal(bare.kind === 'workflow_run' && bare.prNumber, null);
  const e = await read('workflow_run', 'workflow_run-fork.json', { PR_NUMBER: '43' });
  assert.equal(e.kind === 'workflow_run' && e.prNumber, 43);
  assert.equal(e.kind === 'workflow_run' && e.fromFork, true);
  assert.equal(e.kind === 'workflow_run' && e.conclusion, 'failure');
});

test('unknown event and malformed payloads give errors that say what to do', async () => {
  assert.throws(() => parseEvent('issues', {}), /unsupported GitHub event "issues".*push, pull_request/);
  assert.throws(
    () => parseEvent('pull_request', { number: 1 }),
    /pull_request event payload is missing `pull_request`/,
  );
  await assert.rejects(readEvent({}), /GITHUB_EVENT_NAME is not set/);
  await assert.rejects(
    readEvent({ GITHUB_EVENT_NAME: 'push', GITHUB_EVENT_PATH: '/x' }, () => Promise.resolve('nope')),
    /is not JSON/,
  );
});
