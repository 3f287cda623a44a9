/**
 * The registry in a local directory:
 *   models/<name>.json              state document (versions, stages, history), replaced by rename
 *   models/<name>.json.lock         held while a writer reads, changes and replaces the document
 *   bundles/<name>/<dir-md5>/…      immutable, read-only bundle copies, named by content
 * A bundle is copied into a temporary directory, fsynced and renamed into place before the state
 * can mention it, so the state never points at a half-copied bundle; leftovers of writers that
 * died are swept by the next writer.
 */
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { forEachSettled } from './settled.ts';
import { writeViaTemp } from '../platform/storage.ts';
import type { Logger } from '../platform/log.ts';
import { hasCommitted, type FaultHook, type Mutation, type RegistryBackend } from './backend.ts';
import { bundleDirMd5, bundleManifest, hashBundleDir, listBundleFiles, verifyBundleDir } from './bundle-files.ts';
import { withLock, type LockOptions } from './lock.ts';
import { sweepStaleTemps, tempPathIn } from '../platform/temp-files.ts';
import { MODEL_NAME_SOURCE, RegistryError, assertModelName } from './names.ts';
import { parseModelState, type BundleManifest, type ModelState } from './schema.ts';

export interface LocalBackendOptions {
  lock?: LockOptions;
  fault?: FaultHook;
  log?: Logger;
}

const COPY_CONCURRENCY = 4;
const MODEL_FILE = new RegExp(`^(${MODEL_NAME_SOURCE})\\.json$`);

async function fsyncPath(path: string, flags = 'r'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class LocalRegistryBackend implements RegistryBackend {
  readonly root: string;
  private readonly fault: FaultHook;

  constructor(
    root: string,
    private readonly opts: LocalBackendOptions = {},
  ) {
    this.root = resolve(root);
    this.fault = opts.fault ?? (() => undefined);
  }

  describe(): string {
    return this.root;
  }

  private statePath(model: string): string {
    return join(this.root, 'models', `${assertModelName(model)}.json`);
  }

  private bundlesDir(model: string): string {
    return join(this.root, 'bundles', assertModelName(model));
  }

  localBundleDir(bundle: BundleManifest): string {
    return join(this.root, ...bundle.path.split('/'));
  }

  async listModels(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(join(this.root, 'models'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((n) => MODEL_FILE.exec(n)?.[1])
      .filter((n): n is string => !!n)
      .sort();
  }

  async readState(model: string): Promise<ModelState | null> {
    const path = this.statePath(model);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return parseModelState(text, path);
  }

  async update(model: string, tx: string, mutate: Mutation): Promise<ModelState | null> {
    const path = this.statePath(model);
    await mkdir(dirname(path), { recursive: true });
    return withLock(
      `${path}.lock`,
      async () => {
        await this.fault('state:locked');
        await this.sweep(dirname(path), `${model}.json`);
        const current = await this.readState(model);
        if (hasCommitted(current, tx)) return current;
        const next = mutate(current);
        if (!next) return current;
        await writeViaTemp(path, async (tmp) => {
          await writeFile(tmp, JSON.stringify(next, null, 2) + '\n');
          await this.fault('state:written');
        });
        await fsyncPath(dirname(path)); // the rename itself survives a power cut
        await this.fault('state:committed');
        return next;
      },
      { log: this.opts.log, ...this.opts.lock },
    );
  }

  async storeBundle(model: string, localDir: string): Promise<BundleManifest> {
    const relpaths = await listBundleFiles(localDir);
    const dir = this.bundlesDir(model);
    await mkdir(dir, { recursive: true });
    await this.sweep(dir);
    const tmp = tempPathIn(dir);
    try {
      let copied = 0;
      await forEachSettled(relpaths, COPY_CONCURRENCY, async (rel) => {
        const dest = join(tmp, ...rel.split('/'));
        await mkdir(dirname(dest), { recursive: true });
        await copyFile(join(localDir, ...rel.split('/')), dest, constants.COPYFILE_FICLONE);
        await fsyncPath(dest, 'r+');
        await chmod(dest, 0o444);
        if (++copied === Math.ceil(relpaths.length / 2) && copied < relpaths.length) await this.fault('bundle:partial');
      });
      // Directory entries too, so after a power cut no file the manifest lists can be missing.
      const dirs = new Set([
        tmp,
        ...relpaths.flatMap((rel) =>
          rel
            .split('/')
            .slice(0, -1)
            .map((_, i, parts) => join(tmp, ...parts.slice(0, i + 1))),
        ),
      ]);
      for (const d of dirs) await fsyncPath(d);
      // Hash the copy, not the source: the manifest then describes exactly the stored bytes.
      const files = await hashBundleDir(tmp, relpaths);
      const hex = bundleDirMd5(files).slice(0, 32);
      const manifest = bundleManifest(`bundles/${model}/${hex}`, files);
      await this.fault('bundle:copied');
      await this.moveIntoPlace(tmp, join(dir, hex), manifest);
      await fsyncPath(dir);
      await this.fault('bundle:stored');
      return manifest;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Rename the finished copy to its content name; an identical copy already there is reused. */
  private async moveIntoPlace(tmp: string, final: string, manifest: BundleManifest): Promise<void> {
    try {
      await rename(tmp, final);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    }
    const problems = await verifyBundleDir(final, manifest.files);
    if (problems.length) {
      throw new RegistryError(
        `stored bundle ${final} exists but differs from its name (${problems[0]}); move it aside and register again`,
        'corrupt',
      );
    }
  }

  /**
   * Remove temporary files and directories of writers that died (core/platform/temp-files.ts's rule):
   * bundle copies (`.tmp-…`, `target` null) or a state document's temporaries.
   */
  private async sweep(dir: string, target: string | null = null): Promise<void> {
    const removed = await sweepStaleTemps(dir, { target: target ?? null });
    for (const path of removed) this.opts.log?.debug('removed leftover of an interrupted write', { path });
  }

  async fetchBundleFiles(bundle: BundleManifest, destDir: string): Promise<void> {
    const src = this.localBundleDir(bundle);
    await forEachSettled(bundle.files, COPY_CONCURRENCY, async (f) => {
      const dest = join(destDir, ...f.relpath.split('/'));
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(join(src, ...f.relpath.split('/')), dest, constants.COPYFILE_FICLONE);
      await chmod(dest, 0o644);
    });
  }

  verifyBundle(bundle: BundleManifest): Promise<string[]> {
    return verifyBundleDir(this.localBundleDir(bundle), bundle.files);
  }
}
