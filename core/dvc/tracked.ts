/**
 * The data a repository versions with DVC: the outs of its root `*.dvc` files and the cached outs
 * recorded in dvc.lock (outs declared `cache: false` in dvc.yaml, typically metrics, live in git
 * and are skipped, as DVC does).
 */
import { readdir } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import type { Logger } from '../platform/log.ts';
import { readDvcFile } from './dvcfile.ts';
import { readPipeline } from './dvcyaml.ts';
import { LOCK_FILE, lockStageView, readLock } from './lock.ts';

export interface TrackedOut {
  /** Where the entry is recorded, for messages: "data.dvc" or "dvc.lock stage 'train'". */
  origin: string;
  /** Repository-relative, "/"-separated. */
  path: string;
  abs: string;
  md5: string;
  size?: number;
  nfiles?: number;
  isexec?: boolean;
  /** False for outs marked `push: false`. */
  push: boolean;
}

export function normalizeRel(p: string): string {
  const n = posix.normalize(p.split(sep).join('/')).replace(/\/+$/, '');
  return n === '' ? '.' : n;
}

function toRepoRel(repoRoot: string, abs: string): string {
  return normalizeRel(relative(repoRoot, abs));
}

async function fromDvcFiles(repoRoot: string): Promise<TrackedOut[]> {
  const names = (await readdir(repoRoot, { withFileTypes: true }))
    .filter((d) => d.isFile() && d.name.endsWith('.dvc'))
    .map((d) => d.name)
    .sort();
  const outs: TrackedOut[] = [];
  for (const name of names) {
    const file = await readDvcFile(join(repoRoot, name));
    for (const o of file.outs) {
      if (!o.md5 || o.extra.cache === false) continue;
      const abs = resolve(repoRoot, o.path);
      outs.push({
        origin: name,
        path: toRepoRel(repoRoot, abs),
        abs,
        md5: o.md5,
        size: o.size,
        nfiles: o.nfiles,
        isexec: o.isexec,
        push: o.extra.push !== false,
      });
    }
  }
  return outs;
}

async function fromLock(repoRoot: string, log?: Logger): Promise<TrackedOut[]> {
  const lock = await readLock(join(repoRoot, LOCK_FILE));
  if (lock.stages.size === 0) return [];
  const pipeline = await readPipeline(repoRoot);
  const specs = new Map((pipeline?.stages ?? []).map((s) => [s.name, s]));
  const outs: TrackedOut[] = [];
  for (const [name, raw] of lock.stages) {
    const spec = specs.get(name);
    if (!spec) {
      log?.debug(`dvc.lock has stage '${name}' that dvc.yaml no longer defines; ignoring its outs`);
      continue;
    }
    for (const item of lockStageView(name, raw).outs) {
      const decl = spec.outs.find((o) => normalizeRel(o.path) === normalizeRel(item.path));
      if (!decl || !decl.cache) continue;
      const abs = resolve(repoRoot, spec.wdir, item.path);
      outs.push({
        origin: `dvc.lock stage '${name}'`,
        path: toRepoRel(repoRoot, abs),
        abs,
        md5: item.md5,
        size: item.size,
        nfiles: item.nfiles,
        isexec: item.isexec,
        push: decl.push,
      });
    }
  }
  return outs;
}

/**
 * Every tracked out, optionally restricted to `targets` (repository-relative paths). The same
 * path recorded twice with different content is an error, as DVC refuses overlapping outputs.
 */
export async function collectTrackedOuts(
  repoRoot: string,
  opts: { targets?: string[]; log?: Logger } = {},
): Promise<TrackedOut[]> {
  const all = [...(await fromDvcFiles(repoRoot)), ...(await fromLock(repoRoot, opts.log))];
  const byPath = new Map<string, TrackedOut>();
  for (const o of all) {
    if (o.path === '.' || o.path === '..' || o.path.startsWith('../')) {
      throw new Error(
        `${o.origin} tracks '${o.path}', which is not inside the repository; only paths inside it can be pushed or pulled`,
      );
    }
    const prev = byPath.get(o.path);
    if (prev && prev.md5 !== o.md5) {
      throw new Error(
        `'${o.path}' is recorded by both ${prev.origin} and ${o.origin} with different contents; an output may be tracked in one place only`,
      );
    }
    if (!prev) byPath.set(o.path, o);
  }
  let outs = [...byPath.values()];
  if (opts.targets?.length) {
    const wanted = opts.targets.map(normalizeRel);
    outs = outs.filter((o) => wanted.some((t) => o.path === t || o.path.startsWith(t + '/') || t === '.'));
    const unmatched = wanted.filter((t) => !outs.some((o) => o.path === t || o.path.startsWith(t + '/') || t === '.'));
    if (unmatched.length)
      throw new Error(
        `not tracked by DVC: ${unmatched.join(', ')} (tracked: ${[...byPath.keys()].join(', ') || 'nothing'})`,
      );
  }
  return outs;
}
