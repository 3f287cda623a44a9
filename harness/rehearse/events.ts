/**
 * Events as GitHub delivers them, built from the payloads in ../testdata/events/ with the refs and
 * commits of the stand-in origin, and the PR refs GitHub keeps for them (refs/pull/N/head and the
 * test merge refs/pull/N/merge).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Json } from './expr.ts';
import { git, type RehearsalSandbox } from './sandbox.ts';
import type { RehearsalEvent } from './types.ts';

const TESTDATA = join(import.meta.dirname, '..', '..', '.github', 'scripts', 'testdata', 'events');
const ZERO = '0'.repeat(40);
export const payload = (name: string): Record<string, Json> =>
  JSON.parse(readFileSync(join(TESTDATA, `${name}.json`), 'utf8'));

export const head = (s: RehearsalSandbox, branch: string) => git(s.origin, 'rev-parse', `refs/heads/${branch}`);

/** Commit `files` on top of `base` in the origin; returns the new commit. `ref` receives it. */
export async function commitOnOrigin(
  s: RehearsalSandbox,
  base: string,
  ref: string,
  files: Record<string, string>,
  message: string,
  author = 'Ada Lovelace <ada@example.com>',
): Promise<string> {
  await mkdir(join(s.root, 'commits'), { recursive: true });
  const work = await mkdtemp(join(s.root, 'commits', 'c-'));
  await git(work, 'clone', '-q', '--no-checkout', s.origin, '.');
  await git(work, 'checkout', '-q', '--detach', base);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), content);
  }
  await git(work, 'add', '--', ...Object.keys(files));
  await git(
    work,
    '-c',
    `user.name=${author.split(' <')[0]}`,
    '-c',
    `user.email=${author.split('<')[1].replace('>', '')}`,
    'commit',
    '-q',
    '-m',
    message,
  );
  const sha = await git(work, 'rev-parse', 'HEAD');
  await git(work, 'push', '-q', 'origin', `${sha}:${ref}`);
  return sha;
}

export async function pushEvent(
  s: RehearsalSandbox,
  branch: string,
  change?: { files: Record<string, string>; message: string },
): Promise<RehearsalEvent> {
  const before = await head(s, branch);
  const sha = change ? await commitOnOrigin(s, before, `refs/heads/${branch}`, change.files, change.message) : before;
  const p = payload('push');
  const message = await git(s.origin, 'log', '-1', '--format=%B', sha);
  const author = await git(s.origin, 'log', '-1', '--format=%an', sha);
  return {
    name: 'push',
    ref: `refs/heads/${branch}`,
    sha,
    actor: 'ada',
    payload: {
      ...p,
      ref: `refs/heads/${branch}`,
      before: change ? before : ZERO,
      after: sha,
      repository: { full_name: s.repository },
      head_commit: {
        ...(p.head_commit as object),
        id: sha,
        message,
        author: { name: author, email: 'ada@example.com', username: 'ada' },
      },
    },
  };
}

/**
 * A person's GTO tag pushed to the origin (what `gto assign … --push` does): annotated, with GTO's
 * message, by `tagger`, at `commit`; returns the push event GitHub sends for it.
 */
export async function tagPushEvent(
  s: RehearsalSandbox,
  tag: { name: string; commit: string; message: string },
  tagger = 'Ada Lovelace <ada@example.com>',
): Promise<RehearsalEvent> {
  await git(
    s.origin,
    '-c',
    `user.name=${tagger.split(' <')[0]}`,
    '-c',
    `user.email=${tagger.split('<')[1].replace('>', '')}`,
    'tag',
    '-a',
    tag.name,
    '-m',
    tag.message,
    tag.commit,
  );
  const p = payload('push');
  const message = await git(s.origin, 'log', '-1', '--format=%B', tag.commit);
  return {
    name: 'push',
    ref: `refs/tags/${tag.name}`,
    sha: tag.commit,
    actor: 'ada',
    payload: {
      ...p,
      ref: `refs/tags/${tag.name}`,
      before: ZERO,
      after: await git(s.origin, 'rev-parse', `refs/tags/${tag.name}`),
      created: true,
      repository: { full_name: s.repository },
      head_commit: { ...(p.head_commit as object), id: tag.commit, message },
    },
  };
}

export async function defaultBranchEvent(
  s: RehearsalSandbox,
  name: 'schedule' | 'repository_dispatch',
): Promise<RehearsalEvent> {
  return {
    name,
    ref: 'refs/heads/main',
    sha: await head(s, 'main'),
    actor: name === 'schedule' ? 'github-actions[bot]' : 'drift-bot',
    payload: payload(name),
  };
}

export async function dispatchEvent(
  s: RehearsalSandbox,
  branch: string,
  inputs: Record<string, string>,
): Promise<RehearsalEvent> {
  return {
    name: 'workflow_dispatch',
    ref: `refs/heads/${branch}`,
    sha: await head(s, branch),
    actor: 'ada',
    inputs,
    payload: { ...payload('workflow_dispatch'), ref: `refs/heads/${branch}`, inputs },
  };
}

export interface PullRequest {
  number: number;
  head: string;
  merge: string;
  base: string;
  fork: boolean;
  event: RehearsalEvent;
}

/** A pull request into `base`: its head commit (on a branch, or from a fork), refs/pull/N/head and the merge ref GitHub tests. */
export async function pullRequest(
  s: RehearsalSandbox,
  o: { base: string; fork: boolean; files: Record<string, string>; message: string },
): Promise<PullRequest> {
  const p = payload(o.fork ? 'pull_request-fork' : 'pull_request');
  const pr = p.pull_request as { number: number; head: { ref: string; repo: { full_name: string } } };
  const number = pr.number;
  const baseSha = await head(s, o.base);
  const headSha = await commitOnOrigin(
    s,
    baseSha,
    o.fork ? `refs/pull/${number}/head` : `refs/heads/${pr.head.ref}`,
    o.files,
    o.message,
  );
  if (!o.fork) await git(s.origin, 'update-ref', `refs/pull/${number}/head`, headSha);
  const tree = await git(s.origin, 'rev-parse', `${headSha}^{tree}`);
  const merge = await git(
    s.origin,
    '-c',
    'user.name=GitHub',
    '-c',
    'user.email=noreply@github.com',
    'commit-tree',
    tree,
    '-p',
    baseSha,
    '-p',
    headSha,
    '-m',
    `Merge ${headSha} into ${baseSha}`,
  );
  await git(s.origin, 'update-ref', `refs/pull/${number}/merge`, merge);
  s.fake.pulls.set(`${s.repository}#${number}`, {
    number,
    head: { sha: headSha, ref: pr.head.ref },
    base: { ref: o.base },
  });
  const body = {
    ...p,
    number,
    repository: { full_name: s.repository },
    pull_request: {
      ...(p.pull_request as object),
      number,
      head: { ...pr.head, sha: headSha },
      base: {
        ...(p.pull_request as { base: object }).base,
        ref: o.base,
        sha: baseSha,
        repo: { full_name: s.repository },
      },
    },
  };
  return {
    number,
    head: headSha,
    merge,
    base: o.base,
    fork: o.fork,
    event: {
      name: 'pull_request',
      ref: `refs/pull/${number}/merge`,
      sha: merge,
      actor: o.fork ? 'mallory' : 'ada',
      payload: body,
    },
  };
}

/** The workflow_run event GitHub sends when `run` (of workflow `name`) completes for `pr`. */
export async function workflowRunEvent(
  s: RehearsalSandbox,
  o: { name: string; runId: number; conclusion: string; pr: PullRequest },
): Promise<RehearsalEvent> {
  const p = payload(o.pr.fork ? 'workflow_run-fork' : 'workflow_run');
  const run = p.workflow_run as Record<string, Json>;
  return {
    name: 'workflow_run',
    ref: 'refs/heads/main',
    sha: await head(s, 'main'),
    actor: o.pr.fork ? 'mallory' : 'ada',
    payload: {
      ...p,
      repository: { full_name: s.repository },
      workflow_run: {
        ...run,
        id: o.runId,
        name: o.name,
        conclusion: o.conclusion,
        head_sha: o.pr.head,
        html_url: `https://github.com/${s.repository}/actions/runs/${o.runId}`,
        pull_requests: o.pr.fork ? [] : [{ number: o.pr.number, head: { sha: o.pr.head }, base: { ref: o.pr.base } }],
      },
    },
  };
}
