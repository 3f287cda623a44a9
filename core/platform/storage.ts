/**
 * Object storage behind the DVC remote and the data sources: a local directory or a GCS bucket,
 * addressed by `/`-separated keys. Every write lands under a temporary name and is renamed into
 * place (GCS makes an object visible only once its upload completes), so a crash never leaves a
 * half-written object or file behind under its real name.
 */
import { constants, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseTempName, sweepStaleTemps, tempSiblingPath } from './temp-files.ts';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { defaultGcs, type GcsBucket, type GcsClient } from './gcs.ts';
import { requireCredentials, type CredentialCheckOptions } from './gcp-credentials.ts';

export interface ObjectStore {
  exists(key: string): Promise<boolean>;
  /** Upload a local file; the object appears whole or not at all. */
  putFile(key: string, localPath: string): Promise<void>;
  /** Download to a local path through a temporary sibling + rename. */
  getToFile(key: string, localPath: string): Promise<void>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  describe(): string;
  /** Stores with temporary files (local directories): remove those killed writers left; returns them. */
  sweepTemps?(): Promise<string[]>;
}

function isTempName(name: string): boolean {
  return parseTempName(name)?.target != null;
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write `dest` from `produce(tmpPath)`, then fsync and rename; the temp file never survives this
 * process, and stale ones of `dest` that killed writers left are removed first.
 */
export async function writeViaTemp(
  dest: string,
  produce: (tmp: string) => Promise<void>,
  mode?: number,
  opts: { fsync?: boolean } = {},
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  await sweepStaleTemps(dirname(dest), { target: basename(dest) });
  const tmp = tempSiblingPath(dest);
  try {
    await produce(tmp);
    // Skippable for files inside a directory that is itself swapped in atomically afterwards.
    if (opts.fsync !== false) await fsyncFile(tmp);
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** `open` is called only once the temp file is ready, so no early stream error goes unheard. */
export async function streamToFile(open: () => Readable, dest: string): Promise<void> {
  await writeViaTemp(dest, (tmp) => pipeline(open(), createWriteStream(tmp)));
}

export function validateKey(key: string): string {
  if (
    key === '' ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.split('/').some((p) => p === '' || p === '.' || p === '..')
  ) {
    throw new Error(
      `invalid object key ${JSON.stringify(key)}: use relative "/"-separated names without "." or ".." parts`,
    );
  }
  return key;
}

export interface FsStoreOptions {
  /** Make stored objects read-only (0444), as DVC does for caches and local remotes. */
  readOnly?: boolean;
}

export class FsObjectStore implements ObjectStore {
  readonly root: string;
  constructor(
    rootDir: string,
    private readonly opts: FsStoreOptions = {},
  ) {
    this.root = resolve(rootDir);
  }

  pathOf(key: string): string {
    return join(this.root, ...validateKey(key).split('/'));
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch {
      return false;
    }
  }

  async putFile(key: string, localPath: string): Promise<void> {
    // FICLONE makes the copy a cheap reflink where the filesystem supports it.
    await writeViaTemp(
      this.pathOf(key),
      (tmp) => copyFile(localPath, tmp, constants.COPYFILE_FICLONE),
      this.opts.readOnly ? 0o444 : undefined,
    );
  }

  async getToFile(key: string, localPath: string): Promise<void> {
    const src = this.pathOf(key);
    if (!(await this.exists(key))) throw notFound(key, this.describe());
    await writeViaTemp(localPath, async (tmp) => {
      await copyFile(src, tmp, constants.COPYFILE_FICLONE);
      await chmod(tmp, 0o644); // the object may be read-only; the local copy should not be
    });
  }

  async list(prefix: string): Promise<string[]> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const out: string[] = [];
    const walk = async (abs: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(abs, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const key = keyPrefix + e.name;
        if (e.isDirectory()) await walk(join(abs, e.name), key + '/');
        else if (!isTempName(e.name) && key.startsWith(prefix)) out.push(key);
      }
    };
    await walk(dirKey ? this.pathOf(dirKey) : this.root, dirKey ? dirKey + '/' : '');
    return out.sort();
  }

  describe(): string {
    return this.root;
  }

  sweepTemps(): Promise<string[]> {
    return sweepStaleTemps(this.root, { recursive: true });
  }
}

function notFound(key: string, where: string): Error {
  return Object.assign(new Error(`object '${key}' not found in ${where}`), { code: 'ENOENT' });
}

function gcsCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

const RESUMABLE_BYTES = 16 * 1024 * 1024;

export class GcsObjectStore implements ObjectStore {
  private readonly prefix: string;
  constructor(
    readonly bucketName: string,
    prefix: string,
    private readonly opts: { storage?: GcsClient; credentials?: CredentialCheckOptions } = {},
  ) {
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
  }

  private async bucket(): Promise<GcsBucket> {
    if (!this.opts.storage) await requireCredentials(`cannot use ${this.describe()}`, this.opts.credentials);
    return (this.opts.storage ?? (await defaultGcs())).bucket(this.bucketName);
  }

  private nameOf(key: string): string {
    validateKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async exists(key: string): Promise<boolean> {
    const [found] = await (await this.bucket()).file(this.nameOf(key)).exists();
    return found;
  }

  async putFile(key: string, localPath: string): Promise<void> {
    // Resumable sessions cost an extra round trip; only worth it for large objects.
    const { size } = await stat(localPath);
    await (await this.bucket()).upload(localPath, { destination: this.nameOf(key), resumable: size > RESUMABLE_BYTES });
  }

  async getToFile(key: string, localPath: string): Promise<void> {
    const file = (await this.bucket()).file(this.nameOf(key));
    try {
      await streamToFile(() => file.createReadStream(), localPath);
    } catch (err) {
      if (gcsCode(err) === 404) throw notFound(key, this.describe());
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const full = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    const [files] = await (await this.bucket()).getFiles({ prefix: full });
    const cut = this.prefix ? this.prefix.length + 1 : 0;
    return files.map((f) => f.name.slice(cut)).sort();
  }

  describe(): string {
    return `gs://${this.bucketName}${this.prefix ? '/' + this.prefix : ''}`;
  }
}

export function parseGsUrl(url: string): { bucket: string; path: string } {
  const m = /^gs:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || !m[1]) throw new Error(`invalid GCS URL '${url}': expected gs://<bucket>/<path>`);
  return { bucket: m[1], path: m[2] };
}

/** `gs://bucket/prefix` → GCS; `file:///x` or a path (relative to `baseDir`) → local directory. */
export function openStore(
  url: string,
  baseDir: string,
  opts: { storage?: GcsClient; readOnly?: boolean; credentials?: CredentialCheckOptions } = {},
): ObjectStore {
  if (url.startsWith('gs://')) {
    const { bucket, path } = parseGsUrl(url);
    return new GcsObjectStore(bucket, path, { storage: opts.storage, credentials: opts.credentials });
  }
  if (url.startsWith('file://')) return new FsObjectStore(new URL(url).pathname, { readOnly: opts.readOnly });
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (scheme)
    throw new Error(
      `unsupported storage URL '${url}': scheme '${scheme[1]}' is not supported (use gs://bucket/prefix or a local path)`,
    );
  return new FsObjectStore(resolve(baseDir, url), { readOnly: opts.readOnly });
}
