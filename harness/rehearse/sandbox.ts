/**
 * Everything a rehearsal runs against, under one temp directory: a bare repository standing in for
 * github.com/<repository> (each branch its own commit on top of this checkout's snapshot), a git
 * config that sends github.com URLs there only with checkout's persisted credentials (the
 * repository is private: fetch and push need them; a push also needs a job token with
 * contents: write, checked by the origin's pre-receive hook, as on GitHub), the
 * CLI stand-ins, an artifact store, the stand-in cloud state and the loopback GitHub API (strict:
 * only the running job's token, with its scopes).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFakeGitHub, type FakeGitHub } from '../testing/github/fake-github.ts';
import { installStubs } from './stubs/install.ts';
import type { Permissions } from './permissions.ts';
import type { Sandbox } from './types.ts';

const exec = promisify(execFile);
export const REPOSITORY = 'acme/gitops-ml';
/** The stand-in repository's ids (GITHUB_REPOSITORY_ID, GITHUB_REPOSITORY_OWNER_ID). */
export const REPOSITORY_ID = '812345670';
export const REPOSITORY_OWNER_ID = '91234567';
const BRANCH_AUTHOR = {
  GIT_AUTHOR_NAME: 'rehearsal',
  GIT_AUTHOR_EMAIL: 'rehearsal@example.com',
  GIT_COMMITTER_NAME: 'rehearsal',
  GIT_COMMITTER_EMAIL: 'rehearsal@example.com',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/**
 * A commit of the working tree as it is (tracked changes and untracked, not ignored, files) on top
 * of HEAD, made through a temporary index: the checkout's own index and refs are not touched.
 */
export async function workingTreeCommit(source: string, tmp: string): Promise<string> {
  const env = { ...process.env, GIT_INDEX_FILE: join(tmp, 'snapshot.index') };
  // safe.directory: in a CI container the checkout belongs to another uid than the test.
  const run = async (...args: string[]) =>
    (
      await exec('git', ['-c', 'safe.directory=*', ...args], { cwd: source, env, maxBuffer: 64 * 1024 * 1024 })
    ).stdout.trim();
  await run('read-tree', 'HEAD');
  await run('add', '-A');
  const tree = await run('write-tree');
  const headTree = await run('rev-parse', 'HEAD^{tree}');
  if (tree === headTree) return run('rev-parse', 'HEAD');
  return run(
    '-c',
    'user.name=rehearsal',
    '-c',
    'user.email=rehearsal@example.com',
    'commit-tree',
    tree,
    '-p',
    'HEAD',
    '-m',
    'rehearsal: working tree',
  );
}

export interface RehearsalSandbox extends Sandbox {
  fake: FakeGitHub;
  close(): Promise<void>;
}

/**
 * `source`: the checkout whose content is pushed to the stand-in origin: its working tree as it is
 * (workingTreeCommit) or with `committedOnly` its HEAD, as `branches`.
 */
export async function createSandbox(
  source: string,
  branches = ['main', 'model', 'api'],
  opts: { committedOnly?: boolean } = {},
): Promise<RehearsalSandbox> {
  const root = await mkdtemp(join(tmpdir(), 'ci-rehearse-'));
  const origin = join(root, 'github.com', `${REPOSITORY}.git`);
  await mkdir(origin, { recursive: true });
  await git(origin, 'init', '-q', '--bare');
  await git(origin, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
  let snapshot = opts.committedOnly
    ? await git(source, '-c', 'safe.directory=*', 'rev-parse', 'HEAD')
    : await workingTreeCommit(source, root);
  // actions/checkout clones with depth 1, and a bare repository refuses a push from a shallow one
  // ("shallow update not allowed"): the sandbox then gets the same tree as a parentless commit.
  if ((await git(source, '-c', 'safe.directory=*', 'rev-parse', '--is-shallow-repository')) === 'true') {
    snapshot = await git(
      source,
      '-c',
      'safe.directory=*',
      '-c',
      'user.name=rehearsal',
      '-c',
      'user.email=rehearsal@example.com',
      'commit-tree',
      `${snapshot}^{tree}`,
      '-m',
      `rehearsal: snapshot of ${snapshot} (shallow checkout)`,
    );
  }
  await git(source, '-c', 'safe.directory=*', 'push', '-q', origin, `${snapshot}:refs/rehearsal/snapshot`);
  // Every branch gets its own commit on top of the snapshot (same tree, siblings: none is an
  // ancestor of another): a workflow that checks out, builds, tags or pushes the wrong branch
  // then works on the wrong commit, as it would on GitHub.
  for (const b of branches) {
    const commit = await exec(
      'git',
      ['commit-tree', `${snapshot}^{tree}`, '-p', snapshot, '-m', `rehearsal: the ${b} branch`],
      { cwd: origin, env: { ...process.env, ...BRANCH_AUTHOR } },
    );
    await git(origin, 'update-ref', `refs/heads/${b}`, commit.stdout.trim());
  }
  await git(origin, 'symbolic-ref', 'HEAD', 'refs/heads/main');
  // Pushes made while a job runs carry its GITHUB_TOKEN (checkout's persisted credentials):
  // GitHub refuses them unless the token has contents: write. The scenario's own set-up pushes
  // (no job running, no token file) go through.
  const jobToken = join(root, 'job-token');
  await writeFile(
    join(origin, 'hooks', 'pre-receive'),
    [
      '#!/bin/sh',
      `f='${jobToken}'`,
      '[ -f "$f" ] || exit 0',
      `contents="$(sed -n 's/^contents=//p' "$f")"`,
      `holder="$(sed -n 's/^holder=//p' "$f")"`,
      '[ "$contents" = write ] && exit 0',
      `echo "Permission to ${REPOSITORY}.git denied to github-actions[bot]." >&2`,
      `echo "fatal: unable to access 'https://github.com/${REPOSITORY}/': The requested URL returned error: 403" >&2`,
      'echo "(rehearsal: the GITHUB_TOKEN of $holder has contents: ${contents:-none}; a push needs permissions: contents: write)" >&2',
      'exit 1',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const gitConfig = join(root, 'gitconfig');
  await writeFile(
    gitConfig,
    [
      // The repository is private: without the credentials actions/checkout persists (a longer,
      // so winning, rewrite to the origin), a fetch from github.com and a push to it are refused.
      `[url "file://${join(root, 'fetch-refused-private-repository-no-persisted-credentials')}"]`,
      '\tinsteadOf = https://github.com/',
      `[url "file://${join(root, 'push-refused-no-persisted-credentials')}"]`,
      '\tpushInsteadOf = https://github.com/',
      '[init]',
      '\tdefaultBranch = main',
      '[advice]',
      '\tdetachedHead = false',
      '[protocol "file"]',
      '\tallow = always',
      '',
    ].join('\n'),
  );
  const bin = join(root, 'bin');
  const stub = await installStubs(bin);
  const callLog = join(root, 'calls.jsonl');
  await writeFile(callLog, '');
  const fake = await startFakeGitHub({ strict: true });
  const artifacts = join(root, 'artifacts');
  const cloud = join(root, 'cloud');
  await mkdir(artifacts, { recursive: true });
  await mkdir(cloud, { recursive: true });
  fake.listArtifacts = (runId) => {
    const dir = join(artifacts, String(runId));
    return existsSync(dir) ? readdirSync(dir).map((name, i) => ({ id: runId * 100 + i, name, size_in_bytes: 1 })) : [];
  };
  fake.gitRefs = {
    get: (ref) => {
      try {
        return execFileSync('git', ['rev-parse', '--verify', '-q', ref], { cwd: origin, encoding: 'utf8' }).trim();
      } catch {
        return null;
      }
    },
    create: (ref, sha) => execFileSync('git', ['update-ref', ref, sha], { cwd: origin }),
  };
  const granted = new Map<string, Permissions>();
  return {
    root,
    origin,
    repository: REPOSITORY,
    bin,
    stub,
    nodeModules: join(source, 'node_modules'),
    callLog,
    artifacts,
    apiUrl: fake.url,
    cloud,
    gitConfig,
    fake,
    visibility: 'private',
    beginJob: ({ token, permissions, holder }) => {
      granted.set(token, permissions);
      fake.grant(token, permissions, holder);
      writeFileSync(jobToken, `holder=${holder}\ncontents=${permissions.contents}\n`);
    },
    endJob: (token) => {
      granted.delete(token);
      fake.revoke(token);
      rmSync(jobToken, { force: true });
    },
    tokenPermissions: (token) => granted.get(token),
    denials: fake.denials,
    close: () => fake.close(),
  };
}
