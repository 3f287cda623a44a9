/**
 * actions/checkout (v7), as its source does it (src/git-directory-helper.ts,
 * src/git-source-provider.ts): a directory with a `.git` whose origin matches is cleaned
 * (`git clean -ffdx`, `git reset --hard`) — untracked files such as credentials written there
 * are gone; any other directory has ALL its contents deleted. Then `git init`, fetch of the ref
 * (depth `fetch-depth`, 0 = all branches and tags), checkout, and with `persist-credentials`
 * (default true) the token is written to a config file under RUNNER_TEMP that `.git/config`
 * includes (v6+; here an `include.path`, where v6 uses `includeIf.gitdir`). Without persisted
 * credentials a later fetch from or push to the private repository fails, as on GitHub; a push
 * with them needs the token's contents: write (the origin's pre-receive hook). The repository is private: the fetch needs a
 * token with contents: read. For pull_request_target / workflow_run it refuses a fork's head
 * unless `allow-unsafe-pr-checkout`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ActionFailure, inputBool, type ActionContext, type ActionResult } from './types.ts';

const exec = promisify(execFile);

async function git(ctx: ActionContext, cwd: string, ...args: string[]): Promise<string> {
  ctx.log(`[command]git ${args.join(' ')}`);
  try {
    const { stdout } = await exec('git', args, {
      cwd,
      // The action's own git calls carry the token input (http.extraheader), whatever is persisted.
      env: {
        ...ctx.env,
        GIT_TERMINAL_PROMPT: '0',
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: `url.file://${ctx.sandbox.origin}.insteadOf`,
        GIT_CONFIG_VALUE_0: `https://github.com/${ctx.github.repository}`,
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ActionFailure(`git ${args[0]} failed: ${(e.stderr || e.message).trim()}`);
  }
}

const SHA = /^[0-9a-f]{40}$/;

export async function checkout(ctx: ActionContext): Promise<ActionResult> {
  const repository = ctx.inputs.repository || String(ctx.github.repository);
  const path = resolve(ctx.workspace, ctx.inputs.path || '.');
  if (!path.startsWith(ctx.workspace))
    throw new ActionFailure(`Repository path '${path}' is not under '${ctx.workspace}'`);
  const url = `https://github.com/${repository}`;
  let ref = ctx.inputs.ref ?? '';
  let commit = '';
  if (!ref) {
    if (repository === ctx.github.repository) {
      ref = String(ctx.github.ref ?? '');
      commit = String(ctx.github.sha ?? '');
    }
  } else if (SHA.test(ref)) {
    commit = ref;
    ref = '';
  }

  const event = ctx.event;
  if (
    (event.name === 'pull_request_target' || event.name === 'workflow_run') &&
    !inputBool({ ...ctx, inputs: { x: ctx.inputs['allow-unsafe-pr-checkout'] ?? 'false' } }, 'x')
  ) {
    const run = event.payload.workflow_run as
      { head_sha?: string; head_repository?: { full_name?: string } } | undefined;
    const pr = event.payload.pull_request as { head?: { sha?: string; repo?: { full_name?: string } } } | undefined;
    const forkHead =
      run?.head_repository?.full_name && run.head_repository.full_name !== repository
        ? run.head_sha
        : pr?.head?.repo?.full_name && pr.head.repo.full_name !== repository
          ? pr.head.sha
          : undefined;
    if (forkHead && (commit === forkHead || ref.includes('refs/pull/')))
      throw new ActionFailure(
        `Refusing to check out fork pull request code (${forkHead}) for ${event.name}; set allow-unsafe-pr-checkout: true after reviewing the risks`,
      );
  }

  // The fetch authenticates with `token` (default: the job's GITHUB_TOKEN). A private repository
  // answers a token without contents: read as git does any repository it may not see.
  // (The runner always passes `token`; only a direct call of the stand-in, outside a run, has none.)
  const token = ctx.inputs.token;
  if (token === '') throw new ActionFailure('Input required and not supplied: token');
  if (token !== undefined && repository === ctx.github.repository && ctx.sandbox.visibility === 'private') {
    const scopes = ctx.sandbox.tokenPermissions(token);
    if (!scopes)
      throw new ActionFailure(
        `remote: Invalid username or token. Password authentication is not supported for Git operations.\nfatal: Authentication failed for '${url}/' (rehearsal: the token input is not this job's GITHUB_TOKEN nor any token the repository knows)`,
      );
    if (scopes.contents === 'none')
      throw new ActionFailure(
        `remote: Repository not found.\nfatal: repository '${url}/' not found (rehearsal: ${repository} is private and the job's GITHUB_TOKEN has no contents: read — its permissions: do not grant it)`,
      );
  }

  await mkdir(path, { recursive: true });
  // Prepare the existing directory.
  let remove = true;
  if (existsSync(join(path, '.git'))) {
    const fetchUrl = await git(ctx, path, 'config', '--get', 'remote.origin.url').catch(() => '');
    if (fetchUrl.trim() === url) {
      remove = false;
      if (inputBool({ ...ctx, inputs: { clean: ctx.inputs.clean ?? 'true' } }, 'clean')) {
        ctx.log('Cleaning the repository');
        await git(ctx, path, 'clean', '-ffdx');
        await git(ctx, path, 'reset', '--hard', 'HEAD').catch(() => '');
      }
    }
  }
  if (remove) {
    const entries = await readdir(path);
    if (entries.length)
      ctx.log(
        `Deleting the contents of '${path}'${entries.length ? ` (${entries.slice(0, 6).join(', ')}${entries.length > 6 ? ', …' : ''})` : ''}`,
      );
    for (const e of entries) await rm(join(path, e), { recursive: true, force: true });
    await git(ctx, path, 'init', '-q');
    await git(ctx, path, 'remote', 'add', 'origin', url);
  }

  const depth = Number(ctx.inputs['fetch-depth'] ?? '1');
  const fetchTags = inputBool({ ...ctx, inputs: { t: ctx.inputs['fetch-tags'] ?? 'false' } }, 't');
  const specs: string[] = [];
  if (depth <= 0) specs.push('+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*');
  let checkoutTarget: string[];
  const branch = ref.startsWith('refs/heads/')
    ? ref.slice('refs/heads/'.length)
    : ref && !ref.startsWith('refs/')
      ? ref
      : '';
  if (commit) {
    if (depth > 0)
      specs.push(
        ref.startsWith('refs/heads/')
          ? `+${commit}:refs/remotes/origin/${branch}`
          : ref
            ? `+${commit}:${ref.replace(/^refs\//, 'refs/remotes/')}`
            : commit,
      );
    checkoutTarget = branch ? ['-B', branch, commit] : ['--detach', commit];
  } else if (branch) {
    const isTag = (await git(ctx, path, 'ls-remote', '--tags', 'origin', `refs/tags/${branch}`)).trim() !== '';
    if (isTag) {
      if (depth > 0) specs.push(`+refs/tags/${branch}:refs/tags/${branch}`);
      checkoutTarget = ['--detach', `refs/tags/${branch}`];
    } else {
      if (depth > 0) specs.push(`+refs/heads/${branch}:refs/remotes/origin/${branch}`);
      checkoutTarget = ['-B', branch, `refs/remotes/origin/${branch}`];
    }
  } else if (ref) {
    if (depth > 0) specs.push(`+${ref}:${ref.replace(/^refs\//, 'refs/remotes/')}`);
    checkoutTarget = ['--detach', ref.replace(/^refs\//, 'refs/remotes/')];
  } else throw new ActionFailure('Input ref and github.sha are both empty: nothing to check out');
  const fetchArgs = ['-c', 'protocol.version=2', 'fetch', '--no-tags', '--prune', '--no-recurse-submodules'];
  if (depth > 0) fetchArgs.push(`--depth=${depth}`);
  if (fetchTags && depth > 0) fetchArgs.splice(fetchArgs.indexOf('--no-tags'), 1);
  await git(ctx, path, ...fetchArgs, 'origin', ...specs);
  // All history fetched but the commit is on no branch or tag (a fork's PR head): fetch it by id, as checkout does.
  if (
    depth <= 0 &&
    commit &&
    !(await git(ctx, path, 'cat-file', '-t', commit).then(
      () => true,
      () => false,
    ))
  )
    await git(ctx, path, ...fetchArgs, 'origin', commit);
  await git(ctx, path, 'checkout', '--progress', '--force', ...checkoutTarget);
  const sha = (await git(ctx, path, 'rev-parse', 'HEAD')).trim();
  ctx.log(`HEAD is now at ${sha.slice(0, 7)} (${ref || commit})`);

  if (inputBool({ ...ctx, inputs: { p: ctx.inputs['persist-credentials'] ?? 'true' } }, 'p')) {
    const file = join(ctx.runnerTemp, `git-credentials-${randomUUID()}.config`);
    await writeFile(
      file,
      `[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ***\n[url "file://${ctx.sandbox.origin}"]\n\tinsteadOf = https://github.com/${repository}\n\tpushInsteadOf = https://github.com/${repository}\n`,
    );
    await git(ctx, path, 'config', '--local', 'include.path', file);
  }
  return { outputs: { ref: ref || commit, commit: sha } };
}
