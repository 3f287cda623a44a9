/**
 * The git side of GTO: read a repository's tags as gto-state.ts takes them, and create a tag the
 * way `gto` does (annotated, at a commit, with GTO's message). Every call goes through a `Git`
 * runner, so callers choose the repository (and tests can record the commands).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { GitTagRef, GtoArtifact } from './gto-state.ts';

/** Runs `git <args>` in one repository and resolves to its stdout; rejects when git fails. */
export type Git = (args: string[]) => Promise<string>;

/** `git` in directory `cwd` (with `env` instead of the process's environment when given). */
export function gitIn(cwd: string, env?: NodeJS.ProcessEnv): Git {
  return async (args) =>
    (await promisify(execFile)('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' })).stdout;
}

/** The top of the git work tree holding `cwd`, or null when `cwd` is not in one (or git is missing). */
export async function gitWorkTree(cwd: string): Promise<string | null> {
  try {
    const top = (await gitIn(cwd)(['rev-parse', '--show-toplevel'])).trim();
    return top || null;
  } catch {
    return null;
  }
}

const FIELD = '\x1f';
const RECORD = '\x1e';
const FORMAT = [
  '%(refname:strip=2)',
  '%(objecttype)',
  '%(objectname)',
  '%(*objectname)',
  '%(taggerdate:raw)',
  '%(taggername)',
  '%(taggeremail)',
  '%(contents)',
].join('%1f');

/** Every tag of the repository: name, the commit it points at, annotated or not, tagger, time, message. */
export async function readGitTags(git: Git): Promise<GitTagRef[]> {
  const out = await git(['for-each-ref', `--format=${FORMAT}%1e`, 'refs/tags']);
  const tags: GitTagRef[] = [];
  for (const record of out.split(RECORD)) {
    const line = record.replace(/^\n/, '');
    if (!line.trim()) continue;
    const [name, type, object, peeled, date, tagger, email, ...message] = line.split(FIELD);
    const annotated = type === 'tag';
    tags.push({
      name,
      target: annotated ? peeled : object,
      annotated,
      time: annotated ? Number(date.split(' ')[0]) || 0 : 0,
      ...(annotated
        ? { tagger, taggerEmail: email.replace(/^<|>$/g, ''), message: message.join(FIELD).replace(/\n+$/, '') }
        : {}),
    });
  }
  return tags;
}

/** The commit `rev` names (a tag, branch or hash), or null when it names none. */
export async function resolveCommit(git: Git, rev: string): Promise<string | null> {
  try {
    return (await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim() || null;
  } catch {
    return null;
  }
}

/** git's tagger identity when the repository has none configured (CI runners have none). */
export const FALLBACK_TAGGER = ['-c', 'user.name=gitops-ml', '-c', 'user.email=gitops-ml@users.noreply.github.com'];

/**
 * Create annotated tag `name` at `commit` with `message`, as `gto` does. `identity` is `-c`
 * options naming the tagger when git has no `user.email` (default: FALLBACK_TAGGER).
 */
export async function createAnnotatedTag(
  git: Git,
  name: string,
  commit: string,
  message: string,
  identity: string[] = FALLBACK_TAGGER,
): Promise<void> {
  const configured = await git(['config', 'user.email']).then(
    (s) => s.trim() !== '',
    () => false,
  );
  await git([...(configured ? [] : identity), 'tag', '-a', name, '-m', message, commit]);
}

/** `s` as one word for a POSIX shell (quoted only when it must be, like Python's shlex.quote). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A shell-safe `git push <remote> <tag>` line to print (GTO prints the same reminder). */
export function pushCommand(remote: string, tags: string[]): string {
  return `git push ${shellQuote(remote)} ${tags.map(shellQuote).join(' ')}`;
}

/**
 * GTO finds the version an assignment means by the commit it points at; with two versions
 * registered at one commit it cannot tell (its commands fail with ManyVersions). Null when `commit`
 * holds no other version than `version`, else why not and the `git` commands that undo the other.
 */
export function otherVersionAt(gto: GtoArtifact, commit: string, version: string): string | null {
  const others = gto.versions.filter((x) => x.commit === commit && x.registered && x.version !== version);
  if (!others.length) return null;
  const names = others.flatMap((x) => x.events.filter((e) => e.version === x.version && !e.stage).map((e) => e.tag));
  const by = others.map((x) => `${x.version}${x.registration?.by ? ` by ${x.registration.by}` : ''}`).join(', ');
  return (
    `commit ${commit.slice(0, 12)} already holds GTO version ${by}; a ${version} there would make every stage tag ` +
    `at that commit ambiguous to GTO (it fails with "ManyVersions"). If that version is a mistake, delete its tags ` +
    `(git tag -d ${names.map(shellQuote).join(' ')} && git push origin ${names.map((n) => shellQuote(`:refs/tags/${n}`)).join(' ')}) and run this again`
  );
}

/**
 * Whether commit `a` is `b` or one of its ancestors; null when either is unknown here. A registry
 * version's `git_commit` is the commit it was trained at, and its GTO registration tag sits there or
 * on a later commit (CI tags the results commit it pushes): a tag before it is another model.
 */
export async function isAncestor(git: Git, a: string, b: string): Promise<boolean | null> {
  const [ca, cb] = await Promise.all([resolveCommit(git, a), resolveCommit(git, b)]);
  if (!ca || !cb) return null;
  return git(['merge-base', '--is-ancestor', ca, cb]).then(
    () => true,
    () => false,
  );
}
