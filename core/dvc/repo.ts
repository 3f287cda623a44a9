/**
 * What push, pull, status and add share: the repository's cache, its remote, the md5 memo and
 * the ignore rules, plus a progress reporter for long transfers.
 */
import { join } from 'node:path';
import { createLogger } from '../platform/log.ts';
import type { Logger } from '../platform/log.ts';
import { openStore } from '../platform/storage.ts';
import type { ObjectStore } from '../platform/storage.ts';
import type { GcsClient } from '../platform/gcs.ts';
import { LocalCache } from './cache.ts';
import { cacheDirOf, readDvcConfig, resolveRemote } from './config.ts';
import { HashCache } from './hash-cache.ts';
import { DvcIgnore } from './ignore.ts';
import { hashPath } from './hash.ts';
import { sweepStaleTemps } from '../platform/temp-files.ts';
import type { PathHash } from './hash.ts';

/** Where file md5s are memoized between runs (shared with the pipeline runner). */
export const HASH_CACHE_FILE = join('.pipeline', 'hash-cache.json');

export interface RepoOptions {
  repoRoot: string;
  log?: Logger;
  /** Remote name from .dvc/config; the default remote when omitted. */
  remote?: string;
  /** Use this store as the remote instead of the configured one (tests, tools). */
  remoteStore?: ObjectStore;
  /** Injected @google-cloud/storage client for gs:// remotes. */
  storage?: GcsClient;
  /** Parallel transfers; 8 by default. */
  jobs?: number;
}

export interface RepoContext {
  repoRoot: string;
  log: Logger;
  cache: LocalCache;
  hashes: HashCache;
  ignore: DvcIgnore;
  jobs: number;
  /** Opened on first use, so commands that need no remote never require one to be configured. */
  remote(): Promise<ObjectStore>;
  hash(abs: string): Promise<PathHash>;
}

/** Remove temporaries that killed writers left under `root` (core/platform/temp-files.ts's rule) and say so. */
export async function sweepTree(root: string, what: string, log: Logger): Promise<void> {
  const removed = await sweepStaleTemps(root, { recursive: true });
  if (removed.length)
    log.info(`removed ${removed.length} temporary file(s) that interrupted runs left in ${what}`, {
      first: removed[0],
    });
}

export async function openRepo(opts: RepoOptions): Promise<RepoContext> {
  const config = await readDvcConfig(opts.repoRoot);
  const log = opts.log ?? createLogger({ component: 'dvc' });
  const cacheDir = cacheDirOf(config, opts.repoRoot);
  await sweepTree(cacheDir, 'the DVC cache', log);
  const hashes = await HashCache.open(join(opts.repoRoot, HASH_CACHE_FILE));
  const ignore = await DvcIgnore.load(opts.repoRoot);
  let remote: ObjectStore | undefined = opts.remoteStore;
  const jobs = opts.jobs ?? 8;
  return {
    repoRoot: opts.repoRoot,
    log,
    cache: new LocalCache(cacheDir),
    hashes,
    ignore,
    jobs,
    // Opening the store waits for nothing; the executor keeps a bad remote a rejection, not a throw.
    remote() {
      return new Promise<ObjectStore>((done) => {
        if (!remote) {
          const ref = resolveRemote(config, opts.repoRoot, opts.remote);
          remote = openStore(ref.url, opts.repoRoot, { storage: opts.storage, readOnly: true });
        }
        done(remote);
      });
    },
    hash: (abs) => hashPath(abs, { repoRoot: opts.repoRoot, ignore, cache: hashes, concurrency: jobs }),
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Logs a line every `every` objects and a total at the end, so long transfers show life. */
export class Progress {
  done = 0;
  bytes = 0;
  private readonly started = Date.now();
  constructor(
    private readonly log: Logger,
    private readonly verb: string,
    public total: number,
    private readonly every = 100,
  ) {}

  tick(bytes: number): void {
    this.done++;
    this.bytes += bytes;
    if (this.done % this.every === 0 && this.done < this.total) {
      this.log.info(`${this.verb} ${this.done}/${this.total} objects (${formatBytes(this.bytes)})`);
    }
  }

  seconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}
