/**
 * A bundle on local disk: its files (any directory tree), their md5 and size, and the DVC
 * directory hash that names the stored copy. Verification re-hashes the bytes, so a truncated
 * or altered copy is caught before anyone loads it.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { dirManifestBytes, md5Bytes, md5File } from '../dvc/hash.ts';
import { mapLimit } from '../platform/pool.ts';
import { RegistryError, isSafeRelpath } from './names.ts';
import type { BundleFile, BundleManifest } from './schema.ts';

const HASH_CONCURRENCY = 8;

/** Relative `/`-separated paths of every regular file under `dir` (symlinks followed), sorted. */
export async function listBundleFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (abs: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(abs, { withFileTypes: true })) {
      const rel = prefix + entry.name;
      const info = entry.isSymbolicLink() ? await stat(join(abs, entry.name)) : entry;
      if (info.isDirectory()) await walk(join(abs, entry.name), rel + '/');
      else if (!info.isFile())
        throw new RegistryError(`bundle ${dir}: '${rel}' is neither a file nor a directory`, 'invalid');
      else if (!isSafeRelpath(rel))
        throw new RegistryError(
          `bundle ${dir}: file name ${JSON.stringify(rel)} cannot be stored (no backslashes)`,
          'invalid',
        );
      else out.push(rel);
    }
  };
  try {
    await walk(dir, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new RegistryError(`bundle directory ${dir} does not exist (or is not a directory)`, 'not-found');
    }
    throw err;
  }
  if (!out.length) throw new RegistryError(`bundle directory ${dir} has no files`, 'invalid');
  return out.sort();
}

export async function hashBundleDir(dir: string, relpaths?: string[]): Promise<BundleFile[]> {
  const files = relpaths ?? (await listBundleFiles(dir));
  return mapLimit(files, HASH_CONCURRENCY, async (relpath) => {
    const abs = join(dir, ...relpath.split('/'));
    const [md5, info] = await Promise.all([md5File(abs), stat(abs)]);
    return { relpath, md5, size: info.size };
  });
}

/** DVC's `.dir` hash of the file list: the same value `dvc add` would record for the bundle. */
export function bundleDirMd5(files: readonly BundleFile[]): string {
  return `${md5Bytes(dirManifestBytes(files))}.dir`;
}

export function bundleManifest(path: string, files: BundleFile[]): BundleManifest {
  return { path, md5: bundleDirMd5(files), size: files.reduce((s, f) => s + f.size, 0), nfiles: files.length, files };
}

/** Problems with the copy of `files` in `dir` (missing, wrong size, wrong md5); empty when intact. */
export async function verifyBundleDir(dir: string, files: readonly BundleFile[]): Promise<string[]> {
  const results = await mapLimit(files, HASH_CONCURRENCY, async (f) => {
    const abs = join(dir, ...f.relpath.split('/'));
    let size: number;
    try {
      size = (await stat(abs)).size;
    } catch {
      return `${f.relpath}: missing`;
    }
    if (size !== f.size) return `${f.relpath}: ${size} bytes, expected ${f.size}`;
    const md5 = await md5File(abs);
    return md5 === f.md5 ? null : `${f.relpath}: md5 ${md5}, expected ${f.md5}`;
  });
  return results.filter((p): p is string => p !== null);
}

/**
 * JSON fields that record when, from which commit, or in which process a bundle was built, not
 * what it computes: `created_at` and `git_commit` in bundle.json, and the model name tfjs numbers
 * per process (`model1`, `model3`…) in model.json. Two trainings of the same weights, spec,
 * calibration and data differ only there, so they are left out of the content identity.
 */
export const PROVENANCE_FIELDS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  'bundle.json': [['created_at'], ['git_commit'], ['recent_refit', 'seconds']],
  'model.json': [['modelTopology', 'config', 'name']],
};

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function dropPath(value: unknown, path: readonly string[]): void {
  let o = value;
  for (const key of path.slice(0, -1)) o = o && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
  if (o && typeof o === 'object' && !Array.isArray(o)) delete (o as Record<string, unknown>)[path[path.length - 1]];
}

/**
 * The bundle's content identity: an md5 over every file's md5 (DVC's `.dir` manifest bytes),
 * where the files of PROVENANCE_FIELDS are hashed as canonical JSON without those fields. Every
 * other file — weights, feature spec, golden outputs, profile, a calibration file — counts byte
 * for byte, and so does every other metadata key (a calibration inside bundle.json included).
 */
export async function bundleContentMd5(dir: string, files: readonly BundleFile[]): Promise<string> {
  const entries = await Promise.all(
    files.map(async (f) => {
      const drop = PROVENANCE_FIELDS[f.relpath];
      if (!drop) return { relpath: f.relpath, md5: f.md5 };
      let doc: unknown;
      try {
        doc = JSON.parse(await readFile(join(dir, f.relpath), 'utf8'));
      } catch {
        return { relpath: f.relpath, md5: f.md5 }; // not JSON: only identical bytes are the same bundle
      }
      for (const path of drop) dropPath(doc, path);
      return { relpath: f.relpath, md5: md5Bytes(Buffer.from(canonicalJson(doc))) };
    }),
  );
  return md5Bytes(dirManifestBytes(entries));
}
