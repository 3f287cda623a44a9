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
import { chmod, copyFile, mkdir, open, readFile, readdir, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { forEachSettled } from './settled.ts';
import { validateKey, writeViaTemp } from '../platform/storage.ts';
import type { Logger } from '../platform/log.ts';
import { hasCommitted, type FaultHook, type Mutation, type OrphanBundle, type RegistryBackend } from './backend.ts';
import { bundleDirMd5, bundleManifest, hashBundleDir, listBundleFiles, verifyBundleDir } from './bundle-files.ts';
import { withLock, type LockOptions } from './lock.ts';
import { sweepStaleTemps, tempPathIn } from '../platform/temp-files.ts';
import { readTextIfExists } from '../platform/atomic.ts';
import { MODEL_NAME_SOURCE, RegistryError, assertModelName } from './names.ts';
import { parseModelState, type BundleFile, type BundleManifest, type ModelState } from './schema.ts';

export interface LocalBackendOptions {
  lock?: LockOptions;
  fault?: FaultHook;
  log?: Logger;
  /** Bytes free for the registry at `dir` (default: statfs; tests inject a full disk). */
  freeBytes?: (dir: string) => Promise<number>;
}

/** Room kept free beyond a bundle's bytes: directory entries, the state document, the lock. */
const SPACE_MARGIN = 1 << 20;

function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
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
    const text = await readTextIfExists(path);
    return text === null ? null : parseModelState(text, path);
  }

  async update(model: string, tx: string, mutate: Mutation): Promise<ModelState | null> {
    const path = this.statePath(model);
    try {
      return await this.updateState(model, path, tx, mutate);
    } catch (err) {
      if (isNoSpace(err)) throw this.noSpace(err, `changing ${model}'s state ${path}`, 'The state is unchanged');
      throw err;
    }
  }

  private async updateState(model: string, path: string, tx: string, mutate: Mutation): Promise<ModelState | null> {
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

  async storeBundle(model: string, localDir: string, known?: BundleFile[]): Promise<BundleManifest> {
    const relpaths = known ? known.map((f) => f.relpath) : await listBundleFiles(localDir);
    const dir = this.bundlesDir(model);
    try {
      await mkdir(dir, { recursive: true });
      await this.sweep(dir);
      if (known) {
        // The same content already stored (e.g. left by a register that failed after storing it):
        // reuse it instead of needing room for a second full copy.
        const hex = bundleDirMd5(known).slice(0, 32);
        const final = join(dir, hex);
        if ((await stat(final).catch(() => null))?.isDirectory() && !(await verifyBundleDir(final, known)).length)
          return bundleManifest(`bundles/${model}/${hex}`, known);
        await this.checkFreeSpace(
          dir,
          known.reduce((n, f) => n + f.size, 0),
        );
      }
      return await this.copyBundle(model, localDir, relpaths, dir);
    } catch (err) {
      if (isNoSpace(err))
        throw this.noSpace(err, `storing a bundle of ${model} from ${localDir}`, 'nothing was stored');
      throw err;
    }
  }

  /** Refuse up front, naming the path, when the bundle cannot fit (instead of failing mid-copy). */
  private async checkFreeSpace(dir: string, bytes: number): Promise<void> {
    const free = await (
      this.opts.freeBytes ??
      (async (d: string) => {
        const s = await statfs(d);
        return s.bavail * s.bsize;
      })
    )(dir);
    if (free < bytes + SPACE_MARGIN)
      throw new RegistryError(
        `no space for the bundle in the registry: ${dir} has ${free} bytes free, the bundle needs ${bytes} (+ ${SPACE_MARGIN} margin); free space there (\`npm run registry -- gc\` removes bundles no version uses) and register again. Nothing was stored`,
        'no-space',
      );
  }

  private noSpace(err: unknown, doing: string, outcome: string): RegistryError {
    const e = err as NodeJS.ErrnoException & { dest?: string };
    const where = e.dest ?? e.path ?? this.root;
    return new RegistryError(
      `no space left on the device (${e.code}) writing ${where} while ${doing}, in the registry ${this.root}; free space there (\`npm run registry -- gc\` removes bundles no version uses) and try again. ${outcome}`,
      'no-space',
    );
  }

  private async copyBundle(model: string, localDir: string, relpaths: string[], dir: string): Promise<BundleManifest> {
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
      try {
        await fsyncPath(dir);
        await this.fault('bundle:stored');
      } catch (err) {
        // Stored but failing: the caller records no version, so its copy must not stay unused.
        await this.removeUnreferencedBundle(model, manifest.path).catch(() => undefined);
        throw err;
      }
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

  async orphanBundles(model: string, state: ModelState | null): Promise<OrphanBundle[]> {
    const used = new Set((state?.versions ?? []).map((v) => v.bundle.path));
    const names = await readdir(this.bundlesDir(model)).catch(() => [] as string[]);
    const out: OrphanBundle[] = [];
    for (const n of names.sort()) {
      const path = `bundles/${model}/${n}`;
      if (n.startsWith('.') || used.has(path)) continue; // temporaries are swept by the next writer
      const info = await stat(join(this.root, 'bundles', model, n)).catch(() => null);
      if (info) out.push({ path, ageMs: Math.max(0, Date.now() - info.mtimeMs) });
    }
    return out;
  }

  async removeUnreferencedBundle(model: string, path: string): Promise<boolean> {
    const state = this.statePath(model);
    const abs = join(this.root, ...path.split('/'));
    if (dirname(abs) !== this.bundlesDir(model))
      throw new RegistryError(`${path} is not a bundle of ${model}`, 'invalid');
    return withLock(
      `${state}.lock`,
      async () => {
        const current = await this.readState(model);
        if (current?.versions.some((v) => v.bundle.path === path)) return false;
        // Read-only files in read-only-by-convention directories: rm -r removes them (owner's dir is writable).
        await rm(abs, { recursive: true, force: true });
        return true;
      },
      { log: this.opts.log, ...this.opts.lock },
    );
  }

  private documentPath(key: string): string {
    return join(this.root, ...validateKey(key).split('/'));
  }

  async writeDocument(key: string, data: Buffer): Promise<void> {
    const path = this.documentPath(key);
    try {
      await writeViaTemp(path, (tmp) => writeFile(tmp, data));
      await fsyncPath(dirname(path));
    } catch (err) {
      if (isNoSpace(err)) throw this.noSpace(err, `writing ${key}`, 'The previous document, if any, is unchanged');
      throw err;
    }
  }

  async readDocument(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.documentPath(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
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
