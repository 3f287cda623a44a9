/**
 * `dvc add <path>`: hash a file or directory, store its objects in the cache and write
 * `<path>.dvc` next to it (this repository's raw `data/` directory → `data.dvc`), keeping any
 * other keys a person put in an existing .dvc file.
 */
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../platform/log.ts';
import { ensureGitignored } from './config.ts';
import { outFromHash, parseDvcFile, serializeDvcFile } from './dvcfile.ts';
import type { DvcFile, DvcOut } from './dvcfile.ts';
import { formatBytes, openRepo } from './repo.ts';
import { writeFileAtomic } from '../platform/atomic.ts';

export interface AddOptions {
  repoRoot: string;
  log?: Logger;
}

export interface AddResult {
  dvcFile: string;
  out: DvcOut;
  /** Objects newly stored in the cache, and their bytes. */
  objects: number;
  bytes: number;
  changed: boolean;
}

export async function dvcAdd(path: string, opts: AddOptions): Promise<AddResult> {
  const ctx = await openRepo({ repoRoot: opts.repoRoot, log: opts.log });
  const abs = resolve(opts.repoRoot, path);
  const rel = relative(opts.repoRoot, abs);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('.dvc')) {
    throw new Error(`cannot track '${path}': it must be a file or directory inside the repository ${opts.repoRoot}`);
  }
  let h;
  try {
    h = await ctx.hash(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`cannot track '${path}': it does not exist (${abs})`, { cause: err });
    throw err;
  }
  const name = basename(abs);
  const dvcFile = join(dirname(abs), `${name}.dvc`);
  let previous: string | null = null;
  try {
    previous = await readFile(dvcFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const file: DvcFile = previous ? parseDvcFile(previous, dvcFile) : { outs: [], extra: {}, outsIndex: 0 };
  const index = file.outs.findIndex((o) => resolve(dirname(dvcFile), o.path) === abs);
  const out = outFromHash(name, h, index >= 0 ? file.outs[index].extra : {});
  if (index >= 0) file.outs[index] = out;
  else file.outs.push(out);
  // Objects first: a .dvc file must never point at data the cache does not hold.
  const stored = await ctx.cache.addHashed(abs, h);
  const text = serializeDvcFile(file);
  if (text !== previous) await writeFileAtomic(dvcFile, text);
  await ensureGitignored(dirname(abs), name);
  await ctx.hashes.save();
  const what = h.kind === 'dir' ? `${h.nfiles} files, ${formatBytes(h.size)}` : formatBytes(h.size);
  ctx.log.info(`tracked ${rel.split(sep).join('/')} (${what}) in ${relative(opts.repoRoot, dvcFile)}`, {
    md5: h.md5,
    cached: stored.objects,
  });
  return { dvcFile, out, objects: stored.objects, bytes: stored.bytes, changed: text !== previous };
}
