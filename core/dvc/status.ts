/**
 * `dvc status` + `dvc status -c` in one report: for each tracked out, whether the workspace
 * matches what is recorded, and how many of its objects the cache and the remote lack.
 * Read-only: a manifest fetched from the remote to count objects is not stored.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDirObject, objectKey } from './cache.ts';
import { DIR_SUFFIX, md5Bytes, parseDirManifest } from './hash.ts';
import { mapLimit } from '../platform/pool.ts';
import { openRepo } from './repo.ts';
import type { RepoContext } from './repo.ts';
import { collectTrackedOuts } from './tracked.ts';
import type { TrackedOut } from './tracked.ts';
import type { DataOptions } from './transfer.ts';

export interface OutStatus {
  path: string;
  origin: string;
  md5: string;
  workspace: 'ok' | 'modified' | 'missing';
  /** Objects the out consists of (files + manifest); null when the manifest is nowhere. */
  objects: number | null;
  notInCache: number | null;
  /** null when the remote was not checked. */
  notInRemote: number | null;
}

export interface StatusOptions extends DataOptions {
  /** Also compare with the remote (default true). */
  cloud?: boolean;
}

async function manifestIds(ctx: RepoContext, out: TrackedOut, cloud: boolean): Promise<string[] | null> {
  if (!isDirObject(out.md5)) return [out.md5];
  let entries;
  if (await ctx.cache.has(out.md5)) entries = await ctx.cache.readManifest(out.md5);
  else if (cloud) {
    const remote = await ctx.remote();
    if (!(await remote.exists(objectKey(out.md5)))) return null;
    const dir = await mkdtemp(join(tmpdir(), 'dvc-status-'));
    try {
      const tmp = join(dir, 'manifest');
      await remote.getToFile(objectKey(out.md5), tmp);
      const bytes = await readFile(tmp);
      if (md5Bytes(bytes) + DIR_SUFFIX !== out.md5)
        throw new Error(`remote object ${objectKey(out.md5)} in ${remote.describe()} is corrupted`);
      entries = parseDirManifest(bytes, `remote ${objectKey(out.md5)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } else return null;
  return [...entries.map((e) => e.md5), out.md5];
}

async function workspaceState(ctx: RepoContext, out: TrackedOut): Promise<OutStatus['workspace']> {
  try {
    return (await ctx.hash(out.abs)).md5 === out.md5 ? 'ok' : 'modified';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

export async function status(opts: StatusOptions): Promise<OutStatus[]> {
  const ctx = await openRepo(opts);
  const cloud = opts.cloud ?? true;
  const outs = await collectTrackedOuts(ctx.repoRoot, { targets: opts.targets, log: ctx.log });
  const report: OutStatus[] = [];
  for (const out of outs) {
    const ids = await manifestIds(ctx, out, cloud);
    const count = async (has: (id: string) => Promise<boolean>): Promise<number | null> => {
      if (!ids) return null;
      const present = await mapLimit([...new Set(ids)], ctx.jobs, has);
      return present.filter((p) => !p).length;
    };
    const remote = cloud ? await ctx.remote() : null;
    report.push({
      path: out.path,
      origin: out.origin,
      md5: out.md5,
      workspace: await workspaceState(ctx, out),
      objects: ids ? new Set(ids).size : null,
      notInCache: await count((id) => ctx.cache.has(id)),
      notInRemote: remote ? await count((id) => remote.exists(objectKey(id))) : null,
    });
  }
  await ctx.hashes.save();
  return report;
}
