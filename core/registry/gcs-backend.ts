/**
 * The registry in a GCS bucket, same layout as the local backend under `gs://bucket/prefix/`.
 * There are no locks: a writer reads the state object's generation, then its content, and
 * saves the next document with `ifGenerationMatch: <that generation>` (0 = "must not exist").
 * If anyone wrote in between, GCS answers 412 and the writer re-reads and retries with backoff,
 * so no update is lost. Bundle objects are uploaded and checked before the state names them.
 */
import { join } from 'node:path';
import { mapLimit } from '../platform/pool.ts';
import { forEachSettled } from './settled.ts';
import { streamToFile, validateKey } from '../platform/storage.ts';
import { defaultGcs, type GcsBucket, type GcsClient, type GcsFile } from '../platform/gcs.ts';
import { requireCredentials, type CredentialCheckOptions } from '../platform/gcp-credentials.ts';
import type { Logger } from '../platform/log.ts';
import { hasCommitted, type FaultHook, type Mutation, type RegistryBackend } from './backend.ts';
import { bundleDirMd5, bundleManifest, hashBundleDir } from './bundle-files.ts';
import { MODEL_NAME_SOURCE, RegistryError, assertModelName } from './names.ts';
import { parseModelState, type BundleManifest, type ModelState } from './schema.ts';

export interface RetryOptions {
  /** Attempts before giving up on a contended or failing write (default 12). */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface GcsBackendOptions {
  storage?: GcsClient;
  /** How to check for credentials when `storage` is not given (default: this machine's). */
  credentials?: CredentialCheckOptions;
  retry?: RetryOptions;
  fault?: FaultHook;
  log?: Logger;
}

const UPLOAD_CONCURRENCY = 4;
const MODEL_FILE = new RegExp(`^(${MODEL_NAME_SOURCE})\\.json$`);
const RESUMABLE_BYTES = 16 * 1024 * 1024;
const TRANSIENT_CODES = new Set<unknown>([429, 500, 502, 503, 504, 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

function errorCode(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

function md5Base64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}

export class GcsRegistryBackend implements RegistryBackend {
  private readonly prefix: string;
  private readonly fault: FaultHook;

  constructor(
    readonly bucketName: string,
    prefix: string,
    private readonly opts: GcsBackendOptions = {},
  ) {
    this.prefix = prefix.replace(/^\/+|\/+$/g, '');
    this.fault = opts.fault ?? (() => undefined);
  }

  describe(): string {
    return `gs://${this.bucketName}${this.prefix ? '/' + this.prefix : ''}`;
  }

  private async bucket(): Promise<GcsBucket> {
    if (!this.opts.storage)
      await requireCredentials(`cannot use the model registry ${this.describe()}`, this.opts.credentials);
    const client = this.opts.storage ?? (await defaultGcs());
    return client.bucket(this.bucketName);
  }

  private key(rel: string): string {
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  private stateKey(model: string): string {
    return this.key(`models/${assertModelName(model)}.json`);
  }

  async listModels(): Promise<string[]> {
    const [files] = await (await this.bucket()).getFiles({ prefix: this.key('models/') });
    const cut = this.key('models/').length;
    return files
      .map((f) => MODEL_FILE.exec(f.name.slice(cut))?.[1])
      .filter((n): n is string => !!n)
      .sort();
  }

  /**
   * The document and the generation to use as precondition. The generation is read first: if the
   * object changes before the download, the content is newer than the generation and the
   * conditional save fails, so a stale generation can never pair with content it did not see.
   */
  private async readWithGeneration(model: string): Promise<{ state: ModelState | null; generation: string | number }> {
    const file = (await this.bucket()).file(this.stateKey(model));
    let generation: string | number;
    try {
      generation = (await file.getMetadata())[0].generation ?? 0;
    } catch (err) {
      if (errorCode(err) === 404) return { state: null, generation: 0 };
      throw err;
    }
    try {
      const [data] = await file.download();
      return { state: parseModelState(data.toString('utf8'), `gs://${this.bucketName}/${file.name}`), generation };
    } catch (err) {
      if (errorCode(err) === 404) return { state: null, generation: 0 };
      throw err;
    }
  }

  async readState(model: string): Promise<ModelState | null> {
    return (await this.readWithGeneration(model)).state;
  }

  async update(model: string, tx: string, mutate: Mutation): Promise<ModelState | null> {
    const retry = this.opts.retry ?? {};
    const attempts = retry.attempts ?? 12;
    const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const random = retry.random ?? Math.random;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const { state, generation } = await this.readWithGeneration(model);
      // A save whose response was lost may have landed: then its event is already there.
      if (hasCommitted(state, tx)) return state;
      const next = mutate(state);
      if (!next) return state;
      await this.fault('state:locked');
      try {
        await (await this.bucket()).file(this.stateKey(model)).save(JSON.stringify(next, null, 2) + '\n', {
          resumable: false,
          contentType: 'application/json',
          metadata: { cacheControl: 'no-store' },
          preconditionOpts: { ifGenerationMatch: generation },
        });
        await this.fault('state:committed');
        return next;
      } catch (err) {
        const code = errorCode(err);
        if (code !== 412 && !TRANSIENT_CODES.has(code)) throw err;
        lastError = err;
        const cap = Math.min(retry.maxDelayMs ?? 2_000, (retry.baseDelayMs ?? 50) * 2 ** (attempt - 1));
        this.opts.log?.debug(code === 412 ? 'state changed under us; retrying' : 'transient GCS error; retrying', {
          model,
          attempt,
          code: String(code),
        });
        await sleep(Math.round(cap * (0.5 + random() / 2)));
      }
    }
    throw new RegistryError(
      `could not update ${this.describe()}/models/${model}.json after ${attempts} attempts (${(lastError as Error)?.message ?? 'conflicts'}); other writers keep changing it or GCS is failing, retry later`,
      'conflict',
    );
  }

  async storeBundle(model: string, localDir: string): Promise<BundleManifest> {
    const files = await hashBundleDir(localDir);
    const manifest = bundleManifest(`bundles/${assertModelName(model)}/${bundleDirMd5(files).slice(0, 32)}`, files);
    const bucket = await this.bucket();
    let done = 0;
    await forEachSettled(files, UPLOAD_CONCURRENCY, async (f) => {
      const object = bucket.file(this.key(`${manifest.path}/${f.relpath}`));
      const expected = md5Base64(f.md5);
      // Content-addressed: an object already holding these bytes (an earlier, interrupted upload) is kept.
      if ((await this.metadataOrNull(object))?.md5Hash !== expected) {
        await bucket.upload(join(localDir, ...f.relpath.split('/')), {
          destination: object.name,
          resumable: f.size > RESUMABLE_BYTES,
        });
        const md5Hash = (await this.metadataOrNull(object))?.md5Hash;
        if (md5Hash !== undefined && md5Hash !== expected) {
          throw new RegistryError(
            `${localDir}/${f.relpath} changed while it was uploaded; register again once the bundle is complete`,
            'conflict',
          );
        }
      }
      if (++done === Math.ceil(files.length / 2) && done < files.length) await this.fault('bundle:partial');
    });
    await this.fault('bundle:stored');
    return manifest;
  }

  private async metadataOrNull(file: GcsFile) {
    try {
      return (await file.getMetadata())[0];
    } catch (err) {
      if (errorCode(err) === 404) return null;
      throw err;
    }
  }

  async writeDocument(key: string, data: Buffer): Promise<void> {
    // One object written whole (a single-request upload): readers get the old or the new content.
    await (await this.bucket()).file(this.key(validateKey(key))).save(data, {
      resumable: false,
      contentType: 'application/json',
      metadata: { cacheControl: 'no-store' },
    });
  }

  async readDocument(key: string): Promise<Buffer | null> {
    try {
      const [data] = await (await this.bucket()).file(this.key(validateKey(key))).download();
      return data;
    } catch (err) {
      if (errorCode(err) === 404) return null;
      throw err;
    }
  }

  async fetchBundleFiles(bundle: BundleManifest, destDir: string): Promise<void> {
    const bucket = await this.bucket();
    await forEachSettled(bundle.files, UPLOAD_CONCURRENCY, async (f) => {
      const object = bucket.file(this.key(`${bundle.path}/${f.relpath}`));
      try {
        await streamToFile(() => object.createReadStream(), join(destDir, ...f.relpath.split('/')));
      } catch (err) {
        if (errorCode(err) === 404)
          throw new RegistryError(
            `gs://${this.bucketName}/${object.name} is missing: the stored bundle is incomplete`,
            'corrupt',
          );
        throw err;
      }
    });
  }

  async verifyBundle(bundle: BundleManifest): Promise<string[]> {
    const bucket = await this.bucket();
    const problems = await mapLimit(bundle.files, UPLOAD_CONCURRENCY, async (f) => {
      const meta = await this.metadataOrNull(bucket.file(this.key(`${bundle.path}/${f.relpath}`)));
      if (!meta) return `${f.relpath}: missing`;
      if (meta.size !== undefined && Number(meta.size) !== f.size)
        return `${f.relpath}: ${meta.size} bytes, expected ${f.size}`;
      if (meta.md5Hash !== undefined && meta.md5Hash !== md5Base64(f.md5))
        return `${f.relpath}: md5 differs from the manifest`;
      return null;
    });
    return problems.filter((p): p is string => p !== null);
  }
}
