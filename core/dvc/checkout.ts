/**
 * Write tracked outs from the cache into the workspace. Each out is replaced atomically (a file
 * by rename, a directory by building a sibling and swapping it in), every byte is verified
 * against its md5 on the way, and nothing is replaced whose current content exists only in the
 * workspace unless the caller forces it: a pull must never be the thing that loses data.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { replaceDirAtomic } from '../platform/atomic.ts';
import { copyVerified, isDirObject } from './cache.ts';
import { hashPath } from './hash.ts';
import { DvcIgnore } from './ignore.ts';
import { mapLimit } from '../platform/pool.ts';
import type { RepoContext } from './repo.ts';
import type { TrackedOut } from './tracked.ts';

type Plan = { out: TrackedOut; action: 'ok' | 'write'; replacesDir: boolean };

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/** Files of the current workspace copy that are in no cache, so replacing them would lose them. */
async function unrecoverable(ctx: RepoContext, out: TrackedOut): Promise<string[]> {
  // No .dvcignore here: ignored files inside the directory would be deleted by the swap too.
  const h = await hashPath(out.abs, {
    repoRoot: ctx.repoRoot,
    ignore: new DvcIgnore(),
    cache: ctx.hashes,
    concurrency: ctx.jobs,
  });
  const files =
    h.kind === 'dir'
      ? h.entries.map((e) => ({ md5: e.md5, path: `${out.path}/${e.relpath}` }))
      : [{ md5: h.md5, path: out.path }];
  const lost: string[] = [];
  for (const f of files) if (!(await ctx.cache.has(f.md5))) lost.push(f.path);
  return lost;
}

async function plan(ctx: RepoContext, out: TrackedOut, force: boolean, conflicts: string[]): Promise<Plan> {
  const st = await statOrNull(out.abs);
  if (!st) return { out, action: 'write', replacesDir: false };
  const current = await ctx.hash(out.abs);
  if (current.md5 === out.md5) return { out, action: 'ok', replacesDir: false };
  if (!force) conflicts.push(...(await unrecoverable(ctx, out)));
  return { out, action: 'write', replacesDir: st.isDirectory() };
}

async function writeOut(ctx: RepoContext, p: Plan): Promise<void> {
  const { out } = p;
  if (!isDirObject(out.md5)) {
    if (p.replacesDir) await rm(out.abs, { recursive: true, force: true });
    await copyVerified(ctx.cache.pathOf(out.md5), out.abs, out.md5, out.isexec ? 0o755 : 0o644);
    return;
  }
  const entries = await ctx.cache.readManifest(out.md5);
  await replaceDirAtomic(out.abs, async (tmp) => {
    await mapLimit(entries, ctx.jobs, async (e) => {
      const dest = join(tmp, ...e.relpath.split('/'));
      await mkdir(dirname(dest), { recursive: true });
      await copyVerified(ctx.cache.pathOf(e.md5), dest, e.md5, 0o644, { fsync: false });
    });
  });
}

export async function checkoutOuts(
  ctx: RepoContext,
  outs: TrackedOut[],
  opts: { force: boolean },
): Promise<{ checkedOut: number; upToDate: number }> {
  const conflicts: string[] = [];
  const plans: Plan[] = [];
  for (const out of outs) plans.push(await plan(ctx, out, opts.force, conflicts));
  if (conflicts.length) {
    const shown =
      conflicts.slice(0, 10).join('\n  ') + (conflicts.length > 10 ? `\n  … and ${conflicts.length - 10} more` : '');
    throw new Error(
      `checkout would overwrite local changes that are not stored anywhere else:\n  ${shown}\nRecord them first (dvcAdd or rerun the stage) or pass --force to discard them. Nothing was changed.`,
    );
  }
  let checkedOut = 0;
  for (const p of plans) {
    if (p.action === 'ok') continue;
    ctx.log.info(`checking out ${p.out.path}`);
    await writeOut(ctx, p);
    checkedOut++;
  }
  return { checkedOut, upToDate: plans.length - checkedOut };
}
