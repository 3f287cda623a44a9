/**
 * Crash-safe writes: content goes to a temporary sibling and is renamed into place, so a reader
 * (or the next run after a crash) sees either the previous good state or the new one, never half.
 * Hand-written rather than write-file-atomic: whole directories are replaced the same way
 * (replaceDirAtomic, recoverDir) and temporaries of killed writers are swept (temp-files.ts).
 */
import { mkdir, readFile, rename, rm, open, stat } from 'node:fs/promises';
import { dirname, basename } from 'node:path';
import { sweepStaleTemps, tempSiblingPath } from './temp-files.ts';

/** A temporary sibling for `path`, after removing stale ones a killed writer of `path` left. */
async function freshTempSibling(path: string): Promise<string> {
  await sweepStaleTemps(dirname(path), { target: basename(path) });
  return tempSiblingPath(path);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = await freshTempSibling(path);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Build a directory in a temporary sibling, then swap it into place. If `build` throws, the
 * existing directory is untouched. The swap is two renames; a crash between them leaves the old
 * copy at `<dir>.old`, which `recoverDir` puts back.
 */
export async function replaceDirAtomic(dir: string, build: (tmpDir: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  await recoverDir(dir);
  const tmp = await freshTempSibling(dir);
  await mkdir(tmp, { recursive: true });
  try {
    await build(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = `${dir}.old`;
  const existed = await exists(dir);
  if (existed) await rename(dir, old);
  await rename(tmp, dir);
  if (existed) await rm(old, { recursive: true, force: true });
}

export async function recoverDir(dir: string): Promise<void> {
  const old = `${dir}.old`;
  if (await exists(old)) {
    if (await exists(dir)) await rm(old, { recursive: true, force: true });
    else await rename(old, dir);
  }
}

/** A file's text, or null when it does not exist; every other error (permissions, a directory) is thrown. */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
