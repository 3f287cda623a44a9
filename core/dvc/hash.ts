/**
 * DVC 3 content hashes: the md5 of a file's bytes, and for a directory the md5 of its `.dir`
 * manifest (`json.dumps([{"md5": …, "relpath": …}, …], sort_keys=True)` sorted by relpath) with
 * ".dir" appended. core/dvc/hash.test.ts holds the vectors (checked against real DVC 3.64.0) this
 * must reproduce.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { Transform } from 'node:stream';
import { join, relative, sep } from 'node:path';
import { compareCodePoints, pythonJsonDumps } from './pyjson.ts';
import { DVCIGNORE_FILE, DvcIgnore } from './ignore.ts';
import { mapLimit } from '../platform/pool.ts';
import type { HashCache } from './hash-cache.ts';

export const DIR_SUFFIX = '.dir';

export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function md5Bytes(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/** DVC records `isexec: true` for files with any execute bit (dvc_objects.fs.utils.is_exec). */
export function isExecutable(mode: number): boolean {
  return (mode & 0o111) !== 0;
}

export interface ManifestEntry {
  md5: string;
  relpath: string;
}

export interface FileEntry extends ManifestEntry {
  size: number;
  isexec: boolean;
}

/** The exact bytes of a `.dir` object. */
export function dirManifestBytes(entries: readonly ManifestEntry[]): Buffer {
  const sorted = [...entries]
    .map((e) => ({ md5: e.md5, relpath: e.relpath }))
    .sort((a, b) => compareCodePoints(a.relpath, b.relpath));
  return Buffer.from(pythonJsonDumps(sorted, { sortKeys: true }), 'utf8');
}

/** Parse and validate a `.dir` object read from a cache or remote. */
export function parseDirManifest(bytes: Buffer | string, where: string): ManifestEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString());
  } catch {
    throw new Error(`${where}: directory manifest is not valid JSON (corrupted object?)`);
  }
  if (!Array.isArray(raw)) throw new Error(`${where}: directory manifest must be a JSON list`);
  return raw.map((e, i) => {
    const entry = e as Partial<ManifestEntry>;
    if (typeof entry?.md5 !== 'string' || !/^[0-9a-f]{32}$/.test(entry.md5) || typeof entry.relpath !== 'string') {
      throw new Error(`${where}: manifest entry ${i} lacks a valid "md5" or "relpath"`);
    }
    if (entry.relpath.split('/').some((p) => p === '..' || p === '') || entry.relpath.startsWith('/')) {
      throw new Error(`${where}: manifest entry ${i} has an unsafe relpath ${JSON.stringify(entry.relpath)}`);
    }
    return { md5: entry.md5, relpath: entry.relpath };
  });
}

export interface FileHash {
  kind: 'file';
  md5: string;
  size: number;
  isexec: boolean;
}

export interface DirHash {
  kind: 'dir';
  /** md5 of the manifest with the ".dir" suffix, as written in .dvc and dvc.lock files. */
  md5: string;
  size: number;
  nfiles: number;
  entries: FileEntry[];
  manifest: Buffer;
}

export type PathHash = FileHash | DirHash;

export interface HashOptions {
  /** Root that `.dvcignore` patterns are relative to; defaults to the hashed directory. */
  repoRoot?: string;
  ignore?: DvcIgnore;
  cache?: HashCache;
  concurrency?: number;
}

async function fileMd5(path: string, st: Stats, cache?: HashCache): Promise<string> {
  return cache ? cache.md5(path, st) : md5File(path);
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

interface WalkedFile {
  abs: string;
  relpath: string;
  stats: Stats;
}

/**
 * Files under `dir`, top-down like os.walk: symlinks to files are followed, symlinked
 * directories are not descended (DVC does the same).
 */
export async function walkFiles(dir: string, opts: HashOptions = {}): Promise<WalkedFile[]> {
  const root = opts.repoRoot ?? dir;
  const ignore = opts.ignore ?? new DvcIgnore();
  const out: WalkedFile[] = [];
  const visit = async (abs: string, rel: string): Promise<void> => {
    const names = await readdir(abs, { withFileTypes: true });
    for (const d of names) {
      const childAbs = join(abs, d.name);
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const fromRoot = toPosix(relative(root, childAbs));
      if (d.isDirectory()) {
        if (!ignore.isIgnored(fromRoot, true)) await visit(childAbs, childRel);
        continue;
      }
      let st: Stats;
      try {
        st = await stat(childAbs);
      } catch {
        continue; // dangling symlink: DVC's walk skips it too
      }
      if (st.isDirectory()) continue;
      if (ignore.isIgnored(fromRoot, false)) continue;
      if (d.name === DVCIGNORE_FILE) {
        throw new Error(
          `${DVCIGNORE_FILE} file should not be in a collected directory: '${childAbs}'. Move its patterns to the repository root's ${DVCIGNORE_FILE}.`,
        );
      }
      out.push({ abs: childAbs, relpath: childRel, stats: st });
    }
  };
  await visit(dir, '');
  return out;
}

/** Hash a directory the way `dvc add` / `dvc repro` do. */
export async function hashDir(dir: string, opts: HashOptions = {}): Promise<DirHash> {
  const files = await walkFiles(dir, opts);
  const entries = await mapLimit(files, opts.concurrency ?? 8, async (f) => ({
    md5: await fileMd5(f.abs, f.stats, opts.cache),
    relpath: f.relpath,
    size: f.stats.size,
    isexec: isExecutable(f.stats.mode),
  }));
  entries.sort((a, b) => compareCodePoints(a.relpath, b.relpath));
  const manifest = dirManifestBytes(entries);
  return {
    kind: 'dir',
    md5: md5Bytes(manifest) + DIR_SUFFIX,
    size: entries.reduce((n, e) => n + e.size, 0),
    nfiles: entries.length,
    entries,
    manifest,
  };
}

/** Hash a file or directory; throws ENOENT (with the path) when it does not exist. */
export async function hashPath(path: string, opts: HashOptions = {}): Promise<PathHash> {
  const st = await stat(path);
  if (st.isDirectory()) return hashDir(path, opts);
  return { kind: 'file', md5: await fileMd5(path, st, opts.cache), size: st.size, isexec: isExecutable(st.mode) };
}

/** The hash fields DVC records for a path in .dvc files and dvc.lock (absent ones undefined). */
export function hashFields(h: PathHash): {
  md5: string;
  size: number;
  nfiles: number | undefined;
  isexec: true | undefined;
} {
  return {
    md5: h.md5,
    size: h.size,
    nfiles: h.kind === 'dir' ? h.nfiles : undefined,
    isexec: h.kind === 'file' && h.isexec ? true : undefined,
  };
}

/** A pass-through stream that md5-hashes and counts what flows through it (copy and verify in one read). */
export function md5Meter(): { stream: Transform; md5(): string; size(): number } {
  const hash = createHash('md5');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, md5: () => hash.digest('hex'), size: () => size };
}
