/**
 * Everything a rehearsal runs against, under one temp directory: a bare repository standing in for
 * github.com/<repository> (branches from this checkout), a git config that sends github.com URLs
 * there (fetch always; push only with persisted credentials, as on GitHub), the CLI stand-ins, an
 * artifact store, the stand-in cloud state and the loopback GitHub API.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startFakeGitHub, type FakeGitHub } from '../testing/github/fake-github.ts';
import { installStubs } from './stubs/install.ts';
import type { Sandbox } from './types.ts';

const exec = promisify(execFile);
export const REPOSITORY = 'acme/gitops-ml';

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
  await git(
    source,
    '-c',
    'safe.directory=*',
    'push',
    '-q',
    origin,
    ...branches.map((b) => `${snapshot}:refs/heads/${b}`),
  );
  await git(origin, 'symbolic-ref', 'HEAD', 'refs/heads/main');
  const gitConfig = join(root, 'gitconfig');
  await writeFile(
    gitConfig,
    [
      `[url "file://${origin}"]`,
      `\tinsteadOf = https://github.com/${REPOSITORY}`,
      // Without the credentials actions/checkout persists, a push to github.com is refused.
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
  const fake = await startFakeGitHub();
  const artifacts = join(root, 'artifacts');
  const cloud = join(root, 'cloud');
  await mkdir(artifacts, { recursive: true });
  await mkdir(cloud, { recursive: true });
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
    setTokenWritable: (w) => {
      fake.readOnly = !w;
    },
    close: () => fake.close(),
  };
}
