/**
 * `npm run gh:tag`: mirror the registry event of this run as GTO git tags (`<name>@v<N>.0.0`,
 * `<name>#<stage>#<K>`) from `metrics/register.json`, annotated with the decision and its
 * reason, and push them. Tags that already exist (locally or on the remote) are left alone, so a
 * rerun of the same workflow is harmless.
 *
 * Env: TAG_REMOTE (origin; `none` = create locally only), TAG_TARGET (HEAD), REGISTER_JSON
 * (metrics/register.json).
 */
import { resolve } from 'node:path';
import { parseGtoTag } from '../../core/registry/gto.ts';
import { execRunner } from './exec.ts';
import type { Runner } from './metrics-diff.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli } from '../../core/platform/cli.ts';
import { REGISTER_METRICS, readMetricsFileAt } from '../../core/schemas/metrics-files.ts';

export interface TagOptions {
  cwd: string;
  run: Runner;
  registerPath?: string;
  /** null: do not look at or push to a remote. */
  remote?: string | null;
  target?: string;
  print?: (line: string) => void;
}

export interface TagResult {
  created: string[];
  skipped: string[];
  pushed: string[];
}

const BOT_IDENTITY = [
  '-c',
  'user.name=github-actions[bot]',
  '-c',
  'user.email=41898282+github-actions[bot]@users.noreply.github.com',
];

export async function createGtoTags(o: TagOptions): Promise<TagResult> {
  const print = o.print ?? console.log;
  const remote = o.remote === undefined ? 'origin' : o.remote;
  const path = resolve(o.cwd, o.registerPath ?? REGISTER_METRICS);
  const reg = await readMetricsFileAt(path, 'register');
  if (!reg) throw new Error(`${path} does not exist; run the register stage (npm run pipeline -- register) first`);
  const tags = reg.gto_tags;
  for (const t of tags) {
    if (!parseGtoTag(t))
      throw new Error(
        `${path}: gto_tags holds ${JSON.stringify(t)}, which is not a tag this registry makes (<name>@v<N>.0.0 or <name>#<stage>#<K>)`,
      );
  }
  const git = (...args: string[]) => o.run('git', args, { cwd: o.cwd });
  const local = new Set(
    (await git('tag', '--list'))
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const onRemote = new Set<string>();
  if (remote) {
    for (const line of (await git('ls-remote', '--tags', remote)).split('\n')) {
      const ref = line.split('\t')[1]?.trim();
      if (ref?.startsWith('refs/tags/')) onRemote.add(ref.slice('refs/tags/'.length).replace(/\^\{\}$/, ''));
    }
  }
  const identity = await git('config', 'user.email').then(
    (s) => (s.trim() ? [] : BOT_IDENTITY),
    () => BOT_IDENTITY,
  );
  const message = `${reg.model_name} v${reg.version}: ${reg.decision}\n\n${reg.reason}`.trim();
  const result: TagResult = { created: [], skipped: [], pushed: [] };
  for (const tag of tags) {
    if (local.has(tag) || onRemote.has(tag)) {
      result.skipped.push(tag);
      continue;
    }
    await git(...identity, 'tag', '-a', tag, '-m', message, o.target ?? 'HEAD');
    result.created.push(tag);
  }
  // Also push tags an earlier run created but failed to push.
  const toPush = remote ? tags.filter((t) => !onRemote.has(t)) : [];
  if (toPush.length) {
    await git('push', remote!, ...toPush.map((t) => `refs/tags/${t}`));
    result.pushed = toPush;
  }
  if (!tags.length) print('register.json has no gto_tags: nothing to tag');
  for (const t of result.created) print(`created tag ${t}`);
  for (const t of result.skipped) print(`tag ${t} exists: skipped`);
  if (result.pushed.length) print(`pushed ${result.pushed.join(' ')} to ${remote}`);
  return result;
}

const USAGE = `usage: npm run gh:tag
  mirror this run's registry event (metrics/register.json gto_tags) as annotated GTO git tags and
  push them; tags that exist locally or on the remote are skipped
env: TAG_REMOTE (origin; none = create locally only), TAG_TARGET (HEAD), REGISTER_JSON (metrics/register.json)
exit: 0 tagged (or nothing to tag), 1 failed, 2 usage error`;

if (isMain(import.meta.url)) {
  await defineCli({ name: 'gh:tag', usage: USAGE }, async (_args, io) => {
    const remote = process.env.TAG_REMOTE === 'none' ? null : process.env.TAG_REMOTE || 'origin';
    await createGtoTags({
      cwd: process.cwd(),
      run: execRunner,
      remote,
      target: process.env.TAG_TARGET || undefined,
      registerPath: process.env.REGISTER_JSON || undefined,
      print: (line) => io.stdout(line + '\n'),
    });
  }).main();
}
