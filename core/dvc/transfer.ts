/**
 * `dvc push` and `dvc pull` for the outs of the root `*.dvc` files and dvc.lock.
 *
 * Push: every object first enters the local cache (verified against its md5, from the cache or
 * the workspace), then the ones the remote lacks are uploaded; directory manifests go last, so a
 * remote that has a `.dir` object has all of its files.
 * Pull: missing objects are downloaded into the cache and verified before anything in the
 * workspace changes; then each out is materialized atomically. A corrupted or missing remote
 * object aborts the pull with the workspace untouched.
 */
import { stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { tempSiblingPath } from '../platform/temp-files.ts';
import { isDirObject, objectKey } from './cache.ts';
import type { ManifestEntry } from './hash.ts';
import { checkoutOuts } from './checkout.ts';
import { mapLimit } from '../platform/pool.ts';
import { formatBytes, openRepo, Progress } from './repo.ts';
import type { RepoContext, RepoOptions } from './repo.ts';
import { collectTrackedOuts } from './tracked.ts';
import type { TrackedOut } from './tracked.ts';

export interface DataOptions extends RepoOptions {
  /** Restrict to these repository-relative paths. */
  targets?: string[];
}

export interface PullOptions extends DataOptions {
  /** Replace workspace files even when their current content exists nowhere else. */
  force?: boolean;
}

export interface TransferSummary {
  outs: number;
  objects: number;
  transferred: number;
  skipped: number;
  bytes: number;
  seconds: number;
  /** pull only: outs written to the workspace / already up to date. */
  checkedOut?: number;
  upToDate?: number;
}

function listMissing(items: string[]): string {
  return items.slice(0, 10).join('\n  ') + (items.length > 10 ? `\n  … and ${items.length - 10} more` : '');
}

/** Object ids an out needs, files first and its `.dir` manifest last. */
async function objectsForPush(ctx: RepoContext, out: TrackedOut, missing: string[]): Promise<string[]> {
  if (!isDirObject(out.md5)) {
    if (!(await ctx.cache.has(out.md5))) {
      try {
        await ctx.cache.addFile(out.md5, out.abs);
      } catch {
        missing.push(`${out.path} (${out.md5}, from ${out.origin})`);
      }
    }
    return [out.md5];
  }
  let entries: ManifestEntry[];
  if (await ctx.cache.has(out.md5)) entries = await ctx.cache.readManifest(out.md5);
  else {
    let h;
    try {
      h = await ctx.hash(out.abs);
    } catch {
      missing.push(`${out.path} (${out.md5}, from ${out.origin}): not in the cache and not in the workspace`);
      return [];
    }
    if (h.kind !== 'dir' || h.md5 !== out.md5) {
      throw new Error(
        `${out.path} changed since ${out.origin} recorded it (workspace ${h.md5}, recorded ${out.md5}); record the new version first (dvcAdd / rerun the stage) or restore it with a pull`,
      );
    }
    await ctx.cache.addHashed(out.abs, h);
    entries = h.entries;
  }
  for (const e of entries) {
    if (await ctx.cache.has(e.md5)) continue;
    try {
      await ctx.cache.addFile(e.md5, join(out.abs, ...e.relpath.split('/')));
    } catch {
      missing.push(`${out.path}/${e.relpath} (${e.md5})`);
    }
  }
  return [...entries.map((e) => e.md5), out.md5];
}

export async function push(opts: DataOptions): Promise<TransferSummary> {
  const ctx = await openRepo(opts);
  const outs = (await collectTrackedOuts(ctx.repoRoot, { targets: opts.targets, log: ctx.log })).filter((o) => o.push);
  const missing: string[] = [];
  const ids: string[] = [];
  for (const out of outs) ids.push(...(await objectsForPush(ctx, out, missing)));
  await ctx.hashes.save();
  if (missing.length) {
    throw new Error(
      `cannot push: ${missing.length} object(s) are in neither the cache nor the workspace:\n  ${listMissing(missing)}\nPull them on a machine that has them, or re-create the data and record it again.`,
    );
  }
  const unique = [...new Set(ids)];
  const files = unique.filter((id) => !isDirObject(id));
  const dirs = unique.filter(isDirObject);
  const remote = await ctx.remote();
  const swept = (await remote.sweepTemps?.()) ?? [];
  if (swept.length)
    ctx.log.info(`removed ${swept.length} temporary file(s) that interrupted pushes left in ${remote.describe()}`, {
      first: swept[0],
    });
  ctx.log.info(`pushing ${outs.length} output(s), ${unique.length} object(s) to ${remote.describe()}`);
  const progress = new Progress(ctx.log, 'checked', unique.length);
  let transferred = 0;
  const upload = async (id: string): Promise<void> => {
    const key = objectKey(id);
    if (await remote.exists(key)) return progress.tick(0);
    await remote.putFile(key, ctx.cache.pathOf(id));
    transferred++;
    progress.tick((await stat(ctx.cache.pathOf(id))).size);
  };
  await mapLimit(files, ctx.jobs, upload);
  await mapLimit(dirs, ctx.jobs, upload);
  const summary = {
    outs: outs.length,
    objects: unique.length,
    transferred,
    skipped: unique.length - transferred,
    bytes: progress.bytes,
    seconds: progress.seconds(),
  };
  ctx.log.info(
    `pushed ${transferred} object(s) (${formatBytes(summary.bytes)}), ${summary.skipped} already on the remote, in ${summary.seconds.toFixed(1)} s`,
  );
  return summary;
}

/** Download objects the cache lacks, verifying each; returns problems instead of throwing. */
async function fetchObjects(ctx: RepoContext, ids: string[], progress: Progress, problems: string[]): Promise<number> {
  const remote = await ctx.remote();
  let fetched = 0;
  await mapLimit(ids, ctx.jobs, async (id) => {
    if (await ctx.cache.has(id)) return;
    const key = objectKey(id);
    const tmp = tempSiblingPath(ctx.cache.pathOf(id));
    try {
      await remote.getToFile(key, tmp);
      progress.tick(await ctx.cache.adopt(id, tmp, `remote object ${key} in ${remote.describe()}`));
      fetched++;
    } catch (err) {
      problems.push(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? `${key}: missing from ${remote.describe()}`
          : (err as Error).message,
      );
    }
  });
  return fetched;
}

export async function pull(opts: PullOptions): Promise<TransferSummary> {
  const ctx = await openRepo(opts);
  const outs = await collectTrackedOuts(ctx.repoRoot, { targets: opts.targets, log: ctx.log });
  const problems: string[] = [];
  const progress = new Progress(ctx.log, 'downloaded', outs.length);
  const dirIds = outs.filter((o) => isDirObject(o.md5)).map((o) => o.md5);
  let fetched = await fetchObjects(ctx, [...new Set(dirIds)], progress, problems);
  const fileIds = new Set(outs.filter((o) => !isDirObject(o.md5)).map((o) => o.md5));
  for (const out of outs) {
    if (isDirObject(out.md5) && (await ctx.cache.has(out.md5))) {
      for (const e of await ctx.cache.readManifest(out.md5)) fileIds.add(e.md5);
    }
  }
  const needed = [...fileIds];
  ctx.log.info(`pulling ${outs.length} output(s): ${needed.length} file object(s)`);
  progress.total = dirIds.length + needed.length;
  fetched += await fetchObjects(ctx, needed, progress, problems);
  if (problems.length) {
    const where = (await ctx.remote()).describe();
    // The default remote is a directory of the checkout: a fresh clone has it, empty.
    const inCheckout = where === ctx.repoRoot || where.startsWith(ctx.repoRoot + sep);
    throw new Error(
      `pull failed, the workspace was not changed; ${problems.length} object(s) could not be fetched:\n  ${listMissing(problems)}\n` +
        (inCheckout
          ? `The remote is ${where}, a directory inside this checkout, which only the machine that pushed has. ` +
            `Point the remote at storage every machine reaches (e.g. \`url = gs://bucket/dvc\` in .dvc/config) and push from a machine that has the data (npm run data:push), ` +
            `or ingest the data again here (npm start).`
          : 'Push them again from a machine that has the data (npm run data:push).'),
    );
  }
  const result = await checkoutOuts(ctx, outs, { force: opts.force ?? false });
  await ctx.hashes.save();
  const summary = {
    outs: outs.length,
    objects: needed.length + dirIds.length,
    transferred: fetched,
    skipped: needed.length + dirIds.length - fetched,
    bytes: progress.bytes,
    seconds: progress.seconds(),
    checkedOut: result.checkedOut,
    upToDate: result.upToDate,
  };
  ctx.log.info(
    `pulled ${fetched} object(s) (${formatBytes(summary.bytes)}); ${result.checkedOut} output(s) updated, ${result.upToDate} already up to date, in ${summary.seconds.toFixed(1)} s`,
  );
  return summary;
}
