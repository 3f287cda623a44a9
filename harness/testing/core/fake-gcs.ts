/**
 * An in-memory GCS for tests (of the registry, the DVC remote and the data sources), faithful
 * where correctness depends on it: every write gets a new generation, `ifGenerationMatch` is checked atomically at write time (0 means
 * "must not exist") and a mismatch fails with code 412, missing objects fail with 404, and each
 * call yields to the event loop first, so concurrent writers really interleave. Generations grow by
 * uneven steps, as real ones do, from a seeded generator: the same calls give the same generations.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { GcsBucket, GcsClient, GcsFile, GcsFileMetadata, GcsSaveOptions } from '../../../core/platform/gcs.ts';
import { seededRandom } from '../../../core/platform/random.ts';

export interface FakeObject {
  data: Buffer;
  generation: number;
}

export interface FakeGcsHooks {
  /** Before a save is applied (after the network delay): pause here to force a race. */
  beforeSave?: (name: string, options: GcsSaveOptions | undefined) => void | Promise<void>;
  /** Return true to apply the save and then fail as if the response was lost (HTTP 503). */
  loseResponse?: (name: string) => boolean;
}

function gcsError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export class FakeGcs implements GcsClient {
  /** `<bucket>/<object name>` → object. */
  readonly objects = new Map<string, FakeObject>();
  readonly calls: string[] = [];
  /** How many conditional writes GCS refused with 412. */
  preconditionFailures = 0;
  hooks: FakeGcsHooks = {};
  private generation = 1_700_000_000_000_000;
  private readonly random: () => number;

  constructor({ seed = 1 }: { seed?: number } = {}) {
    this.random = seededRandom(seed);
  }

  /** Put `<bucket>/<object name>` directly (test setup), as a write would: with a new generation. */
  setObject(key: string, data: string | Buffer): void {
    this.put(key, Buffer.from(data));
  }

  private put(key: string, data: Buffer): void {
    this.generation += 1 + Math.floor(this.random() * 1000);
    this.objects.set(key, { data: Buffer.from(data), generation: this.generation });
  }

  private checkPrecondition(key: string, options: GcsSaveOptions | undefined): void {
    const expected = options?.preconditionOpts?.ifGenerationMatch;
    if (expected === undefined) return;
    const current = this.objects.get(key)?.generation ?? 0;
    if (Number(expected) !== current) {
      this.preconditionFailures++;
      throw gcsError(
        412,
        `At least one of the pre-conditions you specified did not hold. (${key}: generation ${current}, expected ${expected})`,
      );
    }
  }

  bucket(bucketName: string): GcsBucket {
    const file = (name: string): GcsFile => {
      const key = `${bucketName}/${name}`;
      return {
        name,
        exists: async () => {
          await tick();
          this.calls.push(`exists ${name}`);
          return [this.objects.has(key)];
        },
        getMetadata: async () => {
          await tick();
          this.calls.push(`meta ${name}`);
          const obj = this.objects.get(key);
          if (!obj) throw gcsError(404, `No such object: ${key}`);
          const md5 = createHash('md5').update(obj.data).digest();
          const meta: GcsFileMetadata = {
            generation: String(obj.generation),
            size: String(obj.data.length),
            md5Hash: md5.toString('base64'),
            etag: md5.toString('hex').slice(0, 8),
          };
          return [meta];
        },
        download: async () => {
          await tick();
          this.calls.push(`download ${name}`);
          const obj = this.objects.get(key);
          if (!obj) throw gcsError(404, `No such object: ${key}`);
          return [Buffer.from(obj.data)];
        },
        save: async (data, options) => {
          await tick();
          await this.hooks.beforeSave?.(name, options);
          this.calls.push(`save ${name} ifGenerationMatch=${options?.preconditionOpts?.ifGenerationMatch ?? '-'}`);
          this.checkPrecondition(key, options); // check and write with no await between: atomic, like the server
          this.put(key, Buffer.from(data));
          if (this.hooks.loseResponse?.(name)) throw gcsError(503, 'Service Unavailable (the write happened)');
        },
        createReadStream: () => {
          this.calls.push(`read ${name}`);
          const obj = this.objects.get(key);
          if (!obj) {
            const r = new Readable({ read() {} });
            process.nextTick(() => r.destroy(gcsError(404, `No such object: ${key}`)));
            return r;
          }
          return Readable.from([Buffer.from(obj.data)]);
        },
      };
    };
    return {
      file,
      upload: async (localPath, options) => {
        const data = await readFile(localPath);
        await tick();
        this.calls.push(`upload ${options.destination}`);
        this.put(`${bucketName}/${options.destination}`, data);
      },
      getFiles: async (query) => {
        await tick();
        const names = [...this.objects.keys()]
          .filter((k) => k.startsWith(`${bucketName}/${query.prefix}`))
          .map((k) => k.slice(bucketName.length + 1))
          .sort();
        return [names.map(file)];
      },
    };
  }
}
