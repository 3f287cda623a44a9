/**
 * dvc.lock in DVC's schema 2.0. Stages we did not run are kept exactly as parsed (values
 * included, `1.0` stays a float), so rewriting the lock after one stage touches only that entry.
 * Entry layout, from dvc/stage/serialize.py (to_single_stage_lockfile):
 *   cmd, deps (sorted by path), params (params.yaml first, then other files by name; keys
 *   sorted), outs (sorted by path; metrics and plots included, cache: false or not);
 *   each dep/out: path, hash: md5, md5, size, nfiles (dirs), isexec (executable files).
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../platform/atomic.ts';
import { compareCodePoints } from './pyjson.ts';
import { dumpYamlLikeDvc, parseYamlPy } from './yaml.ts';
import { hashFields, type PathHash } from './hash.ts';

export const LOCK_FILE = 'dvc.lock';
export const DEFAULT_PARAMS_FILE = 'params.yaml';

export interface LockItem {
  path: string;
  md5: string;
  size?: number;
  nfiles?: number;
  isexec?: boolean;
}

export interface LockStage {
  cmd: string | string[];
  deps: LockItem[];
  /** params file → key → value (flat dotted keys, or a whole section as its nested value). */
  params: Record<string, Record<string, unknown>>;
  outs: LockItem[];
}

export interface LockFile {
  /** Raw stage entries in file order; only rewritten when a stage is updated. */
  stages: Map<string, Record<string, unknown>>;
}

export function emptyLock(): LockFile {
  return { stages: new Map() };
}

export function parseLock(text: string, source: string): LockFile {
  const data = parseYamlPy(text, source);
  if (data === null || data === undefined) return emptyLock();
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error(`${source}: expected a mapping`);
  const rec = data as Record<string, unknown>;
  if (rec.schema !== '2.0') {
    throw new Error(
      `${source}: unsupported lock schema ${JSON.stringify(rec.schema ?? null)} (expected '2.0', DVC 2/3). Delete the file and run the pipeline with --force to regenerate it.`,
    );
  }
  const stages = rec.stages ?? {};
  if (typeof stages !== 'object' || stages === null || Array.isArray(stages))
    throw new Error(`${source}: "stages" must be a mapping`);
  return { stages: new Map(Object.entries(stages as Record<string, Record<string, unknown>>)) };
}

export async function readLock(path: string): Promise<LockFile> {
  try {
    return parseLock(await readFile(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyLock();
    throw err;
  }
}

export function serializeLock(lock: LockFile): string {
  return dumpYamlLikeDvc({ schema: '2.0', stages: Object.fromEntries(lock.stages) });
}

export async function writeLock(path: string, lock: LockFile): Promise<void> {
  await writeFileAtomic(path, serializeLock(lock));
}

/** A typed view of a raw entry; throws with the stage name when the entry is malformed. */
export function lockStageView(name: string, raw: Record<string, unknown>, source = LOCK_FILE): LockStage {
  const where = `${source}: stage '${name}'`;
  const cmd = raw.cmd;
  if (typeof cmd !== 'string' && !(Array.isArray(cmd) && cmd.every((c) => typeof c === 'string'))) {
    throw new Error(`${where} has no valid "cmd"`);
  }
  const items = (key: 'deps' | 'outs'): LockItem[] => {
    const list = raw[key] ?? [];
    if (!Array.isArray(list)) throw new Error(`${where}: "${key}" must be a list`);
    return list.map((e, i) => {
      const o = e as Record<string, unknown>;
      if (typeof o?.path !== 'string' || typeof o.md5 !== 'string')
        throw new Error(`${where}: ${key}[${i}] needs "path" and "md5"`);
      return {
        path: o.path,
        md5: o.md5,
        size: typeof o.size === 'number' ? o.size : undefined,
        nfiles: typeof o.nfiles === 'number' ? o.nfiles : undefined,
        isexec: o.isexec === true ? true : undefined,
      };
    });
  };
  const params = (raw.params ?? {}) as Record<string, Record<string, unknown>>;
  if (typeof params !== 'object' || Array.isArray(params)) throw new Error(`${where}: "params" must be a mapping`);
  return { cmd, deps: items('deps'), params, outs: items('outs') };
}

export function lockItemFromHash(path: string, h: PathHash): LockItem {
  return { path, ...hashFields(h) };
}

function itemToYaml(i: LockItem): Record<string, unknown> {
  const r: Record<string, unknown> = { path: i.path, hash: 'md5', md5: i.md5 };
  if (i.size !== undefined) r.size = i.size;
  if (i.nfiles !== undefined) r.nfiles = i.nfiles;
  if (i.isexec) r.isexec = true;
  return r;
}

const byPath = (a: LockItem, b: LockItem): number => compareCodePoints(a.path, b.path);

/** The raw entry DVC would write for this stage state, keys and lists in DVC's order. */
export function lockEntry(stage: LockStage): Record<string, unknown> {
  const res: Record<string, unknown> = { cmd: stage.cmd };
  if (stage.deps.length) res.deps = [...stage.deps].sort(byPath).map(itemToYaml);
  const files = Object.keys(stage.params).sort((a, b) =>
    a === DEFAULT_PARAMS_FILE ? -1 : b === DEFAULT_PARAMS_FILE ? 1 : compareCodePoints(a, b),
  );
  if (files.length) {
    const params: Record<string, Record<string, unknown>> = {};
    for (const f of files) {
      const values = stage.params[f];
      params[f] = Object.fromEntries(
        Object.keys(values)
          .sort(compareCodePoints)
          .map((k) => [k, values[k]]),
      );
    }
    res.params = params;
  }
  if (stage.outs.length) res.outs = [...stage.outs].sort(byPath).map(itemToYaml);
  return res;
}

/**
 * Put `entry` for `name` into the lock. Existing stages keep their entries; the result lists
 * stages in `order` (dvc.yaml order), then any others (stale entries DVC would also keep).
 */
export function updateLock(
  lock: LockFile,
  name: string,
  entry: Record<string, unknown>,
  order: readonly string[],
): LockFile {
  const merged = new Map(lock.stages);
  merged.set(name, entry);
  const stages = new Map<string, Record<string, unknown>>();
  for (const n of order) if (merged.has(n)) stages.set(n, merged.get(n)!);
  for (const [n, e] of merged) if (!stages.has(n)) stages.set(n, e);
  return { stages };
}
