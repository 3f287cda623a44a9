/**
 * A `.dvc`-tracked directory beside the version its `.dvc` file records: what `dvc status` would
 * call modified, plus what the recorded version held (from the cache), so a caller can tell an
 * interrupted update (the workspace is ahead) from a workspace that is behind or was edited.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseDvcFile } from './dvcfile.ts';
import type { DirHash, ManifestEntry } from './hash.ts';
import { openRepo, type RepoOptions } from './repo.ts';

export interface RecordedComparison {
  dvcFile: string;
  /** md5 recorded in the .dvc file (null: no .dvc file, or it does not list this path). */
  recorded: string | null;
  /** The directory as it is now (null: it does not exist). */
  current: DirHash | null;
  /** The recorded version's file list, when its `.dir` object is in the cache. */
  recordedEntries: ManifestEntry[] | null;
  /** Read one file of the recorded version from the cache (null when the cache lacks it). */
  readRecorded(relpath: string): Promise<Buffer | null>;
}

export async function compareWithRecorded(dir: string, opts: RepoOptions): Promise<RecordedComparison> {
  const ctx = await openRepo(opts);
  const abs = resolve(opts.repoRoot, dir);
  const dvcFile = join(dirname(abs), `${basename(abs)}.dvc`);
  let recorded: string | null = null;
  try {
    const file = parseDvcFile(await readFile(dvcFile, 'utf8'), dvcFile);
    recorded = file.outs.find((o) => resolve(dirname(dvcFile), o.path) === abs)?.md5 ?? null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let current: DirHash | null = null;
  try {
    const h = await ctx.hash(abs);
    if (h.kind === 'dir') current = h;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await ctx.hashes.save();
  const recordedEntries =
    recorded && recorded !== current?.md5 && (await ctx.cache.has(recorded))
      ? await ctx.cache.readManifest(recorded)
      : null;
  const readRecorded = async (relpath: string): Promise<Buffer | null> => {
    const entry = recordedEntries?.find((e) => e.relpath === relpath);
    if (!entry || !(await ctx.cache.has(entry.md5))) return null;
    return readFile(ctx.cache.pathOf(entry.md5));
  };
  return { dvcFile, recorded, current, recordedEntries, readRecorded };
}
