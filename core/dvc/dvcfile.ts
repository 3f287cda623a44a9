/**
 * `.dvc` files (what `dvc add` writes). DVC 3 writes each out as
 * `md5, size, nfiles (dirs), isexec (executables), hash: md5, path`, then any user keys
 * (desc, type, labels, meta, remote, push, cache, persist). Unknown keys are kept as they were.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../platform/atomic.ts';
import { dumpYamlLikeDvc, parseYamlPy } from './yaml.ts';
import { hashFields, type PathHash } from './hash.ts';

export interface DvcOut {
  path: string;
  md5?: string;
  size?: number;
  nfiles?: number;
  isexec?: boolean;
  /** "md5" for DVC 3 entries; absent in DVC 2 files, whose md5 is the legacy md5-dos2unix. */
  hash?: string;
  /** Other keys of the entry, in file order (desc, cache, push, meta, …). */
  extra: Record<string, unknown>;
}

export interface DvcFile {
  outs: DvcOut[];
  /** Top-level keys other than `outs` (deps, md5, frozen, meta, …), in file order. */
  extra: Record<string, unknown>;
  /** Position of `outs` among the top-level keys, so rewriting keeps the user's layout. */
  outsIndex: number;
}

const OUT_KEYS = new Set(['path', 'md5', 'size', 'nfiles', 'isexec', 'hash']);

export function parseDvcFile(text: string, source: string): DvcFile {
  const data = parseYamlPy(text, source);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new Error(`${source}: expected a mapping with an "outs" list`);
  }
  const rec = data as Record<string, unknown>;
  if (!Array.isArray(rec.outs)) throw new Error(`${source}: "outs" must be a list of {md5, size, path} entries`);
  const keys = Object.keys(rec);
  const extra: Record<string, unknown> = {};
  for (const k of keys) if (k !== 'outs') extra[k] = rec[k];
  const outs = rec.outs.map((o, i) => parseOut(o, `${source}: outs[${i}]`));
  return { outs, extra, outsIndex: keys.indexOf('outs') };
}

function parseOut(raw: unknown, where: string): DvcOut {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${where} must be a mapping`);
  const o = raw as Record<string, unknown>;
  if (typeof o.path !== 'string' || o.path === '') throw new Error(`${where} has no "path"`);
  const num = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new Error(`${where}: "${k}" must be a non-negative integer`);
    return v;
  };
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!OUT_KEYS.has(k)) extra[k] = v;
  return {
    path: o.path,
    md5: typeof o.md5 === 'string' ? o.md5 : undefined,
    size: num('size'),
    nfiles: num('nfiles'),
    isexec: o.isexec === true ? true : undefined,
    hash: typeof o.hash === 'string' ? o.hash : undefined,
    extra,
  };
}

/** The out entry DVC writes for a freshly hashed path. */
export function outFromHash(path: string, h: PathHash, extra: Record<string, unknown> = {}): DvcOut {
  return { path, ...hashFields(h), hash: 'md5', extra };
}

function outToYamlObject(o: DvcOut): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  if (o.md5 !== undefined) r.md5 = o.md5;
  if (o.size !== undefined) r.size = o.size;
  if (o.nfiles !== undefined) r.nfiles = o.nfiles;
  if (o.isexec) r.isexec = true;
  if (o.hash !== undefined) r.hash = o.hash;
  r.path = o.path;
  return Object.assign(r, o.extra);
}

export function serializeDvcFile(f: DvcFile): string {
  const top: Record<string, unknown> = {};
  const extraKeys = Object.keys(f.extra);
  const at = f.outsIndex < 0 ? 0 : Math.min(f.outsIndex, extraKeys.length);
  extraKeys.slice(0, at).forEach((k) => (top[k] = f.extra[k]));
  top.outs = f.outs.map(outToYamlObject);
  extraKeys.slice(at).forEach((k) => (top[k] = f.extra[k]));
  return dumpYamlLikeDvc(top);
}

export async function readDvcFile(path: string): Promise<DvcFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${path} does not exist`, { cause: err });
    throw err;
  }
  return parseDvcFile(text, path);
}

export async function writeDvcFile(path: string, f: DvcFile): Promise<void> {
  await writeFileAtomic(path, serializeDvcFile(f));
}
