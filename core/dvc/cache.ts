/**
 * DVC's content-addressed layout, shared by the cache (`.dvc/cache`) and remotes:
 * `files/md5/<first 2 hex>/<other 30 hex>`, directory manifests keeping their `.dir` suffix,
 * objects read-only (0444). Every object is written by streaming through md5 into a temporary
 * file that is renamed into place only when the bytes hash to the object's name, so the cache
 * can never hold an object whose content disagrees with its name.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { writeViaTemp } from '../platform/storage.ts';
import { DIR_SUFFIX, dirManifestBytes, md5Bytes, md5File, md5Meter, parseDirManifest } from './hash.ts';
import type { ManifestEntry, PathHash } from './hash.ts';
import { mapLimit } from '../platform/pool.ts';

const OBJECT_ID = /^[0-9a-f]{32}(\.dir)?$/;

export function isDirObject(md5: string): boolean {
  return md5.endsWith(DIR_SUFFIX);
}

/** `files/md5/ec/f8f6613d6b2a92c412c00f6a32657c.dir` */
export function objectKey(md5: string): string {
  if (!OBJECT_ID.test(md5)) throw new Error(`'${md5}' is not a DVC md5 object id (32 hex digits, optionally + ".dir")`);
  return `files/md5/${md5.slice(0, 2)}/${md5.slice(2)}`;
}

/** The md5 the object's bytes must have: the id itself, minus the `.dir` suffix. */
export function contentMd5(md5: string): string {
  return isDirObject(md5) ? md5.slice(0, -DIR_SUFFIX.length) : md5;
}

export class ObjectCorruptedError extends Error {
  constructor(
    readonly where: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${where} is corrupted: its content has md5 ${actual}, expected ${expected}`);
  }
}

/**
 * Copy `src` to `dest` (temp + rename), hashing on the way; refuse to create `dest` unless the
 * content's md5 is `expectedMd5`. One read of the source, one write.
 */
export async function copyVerified(
  src: string,
  dest: string,
  expectedMd5: string,
  mode: number,
  opts: { fsync?: boolean } = {},
): Promise<number> {
  const meter = md5Meter();
  await writeViaTemp(
    dest,
    async (tmp) => {
      await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), meter.stream, createWriteStream(tmp));
      const actual = meter.md5();
      if (actual !== expectedMd5) throw new ObjectCorruptedError(src, expectedMd5, actual);
    },
    mode,
    opts,
  );
  return meter.size();
}

export class LocalCache {
  constructor(readonly root: string) {}

  pathOf(md5: string): string {
    return join(this.root, ...objectKey(md5).split('/'));
  }

  async has(md5: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(md5))).isFile();
    } catch {
      return false;
    }
  }

  /** Add a file whose md5 is known; a no-op when present. Returns bytes copied. */
  async addFile(md5: string, src: string): Promise<number> {
    if (await this.has(md5)) return 0;
    return copyVerified(src, this.pathOf(md5), contentMd5(md5), 0o444);
  }

  /**
   * Move a downloaded file into the cache if it hashes to `md5`; otherwise delete it and throw
   * ObjectCorruptedError naming `origin` (where it was downloaded from).
   */
  async adopt(md5: string, tmpPath: string, origin: string): Promise<number> {
    try {
      const actual = isDirObject(md5) ? md5Bytes(await readFile(tmpPath)) : await md5File(tmpPath);
      if (actual !== contentMd5(md5)) throw new ObjectCorruptedError(origin, contentMd5(md5), actual);
      const { size } = await stat(tmpPath);
      await chmod(tmpPath, 0o444);
      await mkdir(dirname(this.pathOf(md5)), { recursive: true });
      await rename(tmpPath, this.pathOf(md5));
      return size;
    } finally {
      await rm(tmpPath, { force: true });
    }
  }

  async addManifest(md5: string, manifest: Buffer): Promise<void> {
    if (md5Bytes(manifest) + DIR_SUFFIX !== md5) throw new Error(`manifest bytes do not hash to ${md5}`);
    if (await this.has(md5)) return;
    await writeViaTemp(this.pathOf(md5), (tmp) => writeFile(tmp, manifest), 0o444);
  }

  async readManifest(md5: string): Promise<ManifestEntry[]> {
    const path = this.pathOf(md5);
    const bytes = await readFile(path);
    const actual = md5Bytes(bytes) + DIR_SUFFIX;
    if (actual !== md5) throw new ObjectCorruptedError(path, md5, actual);
    return parseDirManifest(bytes, path);
  }

  /**
   * Store a hashed workspace path (what `dvc add`/`dvc commit` do). A file changed since it was
   * hashed fails verification instead of entering the cache under the wrong name.
   */
  async addHashed(absPath: string, h: PathHash): Promise<{ objects: number; bytes: number }> {
    if (h.kind === 'file') {
      if (await this.has(h.md5)) return { objects: 0, bytes: 0 };
      return { objects: 1, bytes: await this.addFile(h.md5, absPath) };
    }
    let objects = 0;
    let bytes = 0;
    await mapLimit(h.entries, 8, async (e) => {
      if (await this.has(e.md5)) return;
      bytes += await this.addFile(e.md5, join(absPath, ...e.relpath.split('/')));
      objects++;
    });
    // The manifest goes last: a cache holding a `.dir` object then holds all of its files.
    if (!(await this.has(h.md5))) {
      await this.addManifest(h.md5, dirManifestBytes(h.entries));
      objects++;
    }
    return { objects, bytes };
  }
}
