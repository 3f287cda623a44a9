/**
 * The model registry: named models, numbered immutable versions (a bundle copy plus metadata),
 * stage pointers and an append-only history of who changed what, through what, when and why.
 * Storage is a backend (local directory or GCS bucket); every change is one atomic replacement of
 * the model's state document, so a crash leaves either the old state or the new one.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, relative, resolve } from 'node:path';
import { replaceDirAtomic } from '../platform/atomic.ts';
import { createLogger, type Logger } from '../platform/log.ts';
import { parseGsUrl } from '../platform/storage.ts';
import type { CredentialCheckOptions } from '../platform/gcp-credentials.ts';
import type { FaultHook, Mutation, RegistryBackend } from './backend.ts';
import { bundleContentMd5, bundleDirMd5, hashBundleDir, verifyBundleDir } from './bundle-files.ts';
import { GcsRegistryBackend, type RetryOptions } from './gcs-backend.ts';
import type { GcsClient } from '../platform/gcs.ts';
import { LocalRegistryBackend } from './local-backend.ts';
import type { LockOptions } from './lock.ts';
import { RegistryError, assertModelName, assertStageName, assertVersionNumber } from './names.ts';
import {
  parseVersionMeta,
  type HistoryEvent,
  type ModelState,
  type VersionMetaInput,
  type VersionRecord,
} from './schema.ts';
import {
  applyArchive,
  applyDemote,
  applyRegister,
  applyRollback,
  applySetStage,
  checkState,
  describeStages,
  emptyState,
  findSameContent,
  findVersion,
  latestVersion,
  rollbackTarget,
  stagesOf,
  type ChangeContext,
} from './state.ts';

export interface OpenRegistryOptions {
  /** Relative local registry paths are resolved against this (default: the current directory). */
  baseDir?: string;
  /** GCS client for `gs://` registries (default: @google-cloud/storage, loaded on first use). */
  storage?: GcsClient;
  /** How a gs:// registry without `storage` checks for credentials (tests; default: this machine's). */
  credentials?: CredentialCheckOptions;
  clock?: () => Date;
  log?: Logger;
  /** Where the default actor comes from (GITHUB_ACTOR, then USER); default `process.env`. */
  env?: Record<string, string | undefined>;
  lock?: LockOptions;
  retry?: RetryOptions;
  /** Tests only: called at points inside a write, to pause or crash there. */
  faultHook?: FaultHook;
}

export interface ChangeOptions {
  /** Who (default: env GITHUB_ACTOR, else USER, else 'unknown'). */
  actor?: string;
  /** Through what: 'pipeline', 'cli', 'api', 'ci'… (default 'api'). */
  source?: string;
  /** Why; required for promote and rollback. */
  reason?: string;
  /**
   * The git tags that mirror a stage change (promote, rollback, demote), when the caller makes them
   * by GTO's rules (the registry CLI does); default: the registry's own names (`event.tags`).
   */
  tags?: string[];
}

export interface VersionInfo extends VersionRecord {
  model: string;
  /** Stages pointing at this version, sorted. */
  stages: string[];
  archived: boolean;
  latest: boolean;
}

export interface ModelSummary {
  model: string;
  latest: number | null;
  versions: number;
  stages: Record<string, number>;
  archived: number[];
  revision: number;
  updated_at: string | null;
}

export interface StageChange {
  model: string;
  stage: string;
  from: number | null;
  to: number | null;
  /** False when the stage already held the requested version (nothing recorded). */
  changed: boolean;
  event: HistoryEvent | null;
}

export interface FetchOptions {
  /** Local backend: return the stored (read-only) directory instead of copying. */
  inPlace?: boolean;
  /** Re-hash the files against the manifest (default true). */
  verify?: boolean;
}

export interface FetchedBundle {
  dir: string;
  inPlace: boolean;
  version: VersionInfo;
}

export interface VerifyReport {
  model: string;
  ok: boolean;
  problems: string[];
  versionsChecked: number;
  /** Stored copies no version refers to: not damage, just space (`gc` removes them). */
  orphans: string[];
}

/** `gc` leaves younger unused copies alone: a register may have stored one and not yet recorded it. */
export const GC_MIN_AGE_MS = 10 * 60_000;

export function versionInfo(state: ModelState, record: VersionRecord): VersionInfo {
  return {
    ...record,
    model: state.model,
    stages: stagesOf(state, record.version),
    archived: state.archived.includes(record.version),
    latest: latestVersion(state) === record.version,
  };
}

export class Registry {
  private readonly clock: () => Date;
  private readonly log: Logger;
  private readonly env: Record<string, string | undefined>;

  constructor(
    readonly backend: RegistryBackend,
    opts: Pick<OpenRegistryOptions, 'clock' | 'log' | 'env'> = {},
  ) {
    this.clock = opts.clock ?? (() => new Date());
    this.log = opts.log ?? createLogger({ component: 'registry' });
    this.env = opts.env ?? process.env;
  }

  describe(): string {
    return this.backend.describe();
  }

  private context(opts: ChangeOptions, requireReason: string | null): ChangeContext {
    const reason = opts.reason?.trim() || null;
    if (requireReason && !reason)
      throw new RegistryError(
        `${requireReason} needs a reason (say why, e.g. "beats production on roc_auc")`,
        'invalid',
      );
    const actor = opts.actor?.trim() || this.env.GITHUB_ACTOR?.trim() || this.env.USER?.trim() || 'unknown';
    return {
      tx: randomUUID(),
      at: this.clock().toISOString(),
      actor,
      source: opts.source?.trim() || 'api',
      reason,
      ...(opts.tags ? { tags: [...opts.tags] } : {}),
    };
  }

  private async load(name: string): Promise<ModelState> {
    const state = await this.backend.readState(assertModelName(name));
    if (state) return state;
    const models = await this.backend.listModels();
    throw new RegistryError(
      `no model '${name}' in ${this.describe()} (${models.length ? `models: ${models.join(', ')}` : 'the registry is empty'})`,
      'not-found',
    );
  }

  /** Run a change on an existing model and return the committed state and the event it added. */
  private async change(
    name: string,
    ctx: ChangeContext,
    apply: (s: ModelState) => ModelState | null,
  ): Promise<{ state: ModelState; event: HistoryEvent | null }> {
    await this.load(name);
    const mutate: Mutation = (current) => (current ? apply(current) : apply(emptyState(name)));
    const state = (await this.backend.update(name, ctx.tx, mutate))!;
    return { state, event: state.history.find((e) => e.tx === ctx.tx) ?? null };
  }

  /**
   * Add a bundle as the next version, recording its content md5 (bundle-files.ts
   * `bundleContentMd5`: everything but when and from which commit it was built). With `dedupe`, a
   * bundle whose content is already a version is not added again: that version comes back with
   * nothing is recorded. The check runs again inside the atomic update, so two
   * concurrent registrations of one model give one version.
   */
  async register(
    name: string,
    bundleDir: string,
    meta: VersionMetaInput,
    opts: ChangeOptions & { dedupe?: boolean } = {},
  ): Promise<VersionInfo> {
    assertModelName(name);
    const parsed = parseVersionMeta(meta);
    const ctx = this.context(opts, null);
    const dir = resolve(bundleDir);
    const files = await hashBundleDir(dir);
    const content = await bundleContentMd5(dir, files);
    const known = opts.dedupe ? await this.backend.readState(name) : null;
    const same = known && findSameContent(known, { md5: bundleDirMd5(files) }, content);
    if (same) return this.reused(name, known, same.version);
    const bundle = await this.backend.storeBundle(name, dir, files);
    let state: ModelState;
    try {
      state = (await this.backend.update(name, ctx.tx, (current) => {
        const s = current ?? emptyState(name);
        return opts.dedupe && findSameContent(s, bundle, content)
          ? null
          : applyRegister(s, ctx, bundle, parsed, content);
      }))!;
    } catch (err) {
      await this.discard(name, bundle.path);
      throw err;
    }
    const event = state.history.find((e) => e.tx === ctx.tx);
    if (!event) return this.reused(name, state, findSameContent(state, bundle, content)!.version);
    const info = versionInfo(state, findVersion(state, event.version!));
    this.log.info(`registered ${name} v${info.version}`, {
      registry: this.describe(),
      bundle: bundle.md5,
      content: content,
      files: bundle.nfiles,
      actor: ctx.actor,
    });
    return info;
  }

  /** The version was not recorded: its stored copy must not stay behind unused (if no version shares it). */
  private async discard(name: string, path: string): Promise<void> {
    try {
      if (await this.backend.removeUnreferencedBundle?.(name, path))
        this.log.info(`removed ${path}: the version that stored it was not recorded`, { registry: this.describe() });
    } catch (err) {
      this.log.warn(
        `could not remove ${path}, stored for a version that was not recorded; \`registry gc\` removes it`,
        {
          error: (err as Error).message,
        },
      );
    }
  }

  /**
   * Remove stored bundle copies no version refers to (left by a register that failed or was killed
   * after storing its bundle), older than `minAgeMs` so a register still running keeps its copy.
   */
  async gc(name: string, opts: { minAgeMs?: number } = {}): Promise<string[]> {
    const state = await this.load(name);
    const removed: string[] = [];
    for (const o of (await this.backend.orphanBundles?.(name, state)) ?? [])
      if (o.ageMs >= (opts.minAgeMs ?? GC_MIN_AGE_MS) && (await this.backend.removeUnreferencedBundle!(name, o.path)))
        removed.push(o.path);
    return removed;
  }

  private reused(name: string, state: ModelState, version: number): VersionInfo {
    this.log.info(`${name} v${version} already holds this bundle's content; not registering it again`, {
      registry: this.describe(),
    });
    return versionInfo(state, findVersion(state, version));
  }

  private stageChange(
    name: string,
    stage: string,
    result: { state: ModelState; event: HistoryEvent | null },
  ): StageChange {
    const { state, event } = result;
    const now = state.stages[stage] ?? null;
    if (event)
      this.log.info(`${event.type} ${name} ${stage}: v${event.from ?? '-'} → v${event.to ?? '-'}`, {
        actor: event.actor,
        reason: event.reason,
      });
    return { model: name, stage, from: event ? event.from : now, to: now, changed: !!event, event };
  }

  async setStage(name: string, stage: string, version: number, opts: ChangeOptions = {}): Promise<StageChange> {
    assertStageName(stage);
    assertVersionNumber(version);
    const ctx = this.context(opts, `promoting ${name} v${version} to ${stage}`);
    return this.stageChange(name, stage, await this.change(name, ctx, (s) => applySetStage(s, ctx, stage, version)));
  }

  async rollback(name: string, stage: string, opts: ChangeOptions = {}): Promise<StageChange> {
    assertStageName(stage);
    const ctx = this.context(opts, `rolling back ${name} ${stage}`);
    return this.stageChange(name, stage, await this.change(name, ctx, (s) => applyRollback(s, ctx, stage)));
  }

  /** The version `rollback(name, stage)` would put back now (the registry's undo rule); throws when there is none. */
  async rollbackTarget(name: string, stage: string): Promise<number> {
    return rollbackTarget(await this.load(name), stage);
  }

  async demote(name: string, stage: string, opts: ChangeOptions = {}): Promise<StageChange> {
    assertStageName(stage);
    const ctx = this.context(opts, null);
    return this.stageChange(name, stage, await this.change(name, ctx, (s) => applyDemote(s, ctx, stage)));
  }

  async archive(name: string, version: number, opts: ChangeOptions = {}): Promise<VersionInfo> {
    assertVersionNumber(version);
    const ctx = this.context(opts, null);
    const { state } = await this.change(name, ctx, (s) => applyArchive(s, ctx, version));
    return versionInfo(state, findVersion(state, version));
  }

  async getVersion(name: string, version: number): Promise<VersionInfo> {
    const state = await this.load(name);
    return versionInfo(state, findVersion(state, version));
  }

  async getStage(name: string, stage: string): Promise<VersionInfo | null> {
    assertStageName(stage);
    const state = await this.load(name);
    const v = state.stages[stage];
    return v === undefined ? null : versionInfo(state, findVersion(state, v));
  }

  /** The version a stage points at, or an error naming the stages that exist. */
  async requireStage(name: string, stage: string): Promise<VersionInfo> {
    const info = await this.getStage(name, stage);
    if (info) return info;
    throw new RegistryError(
      `model '${name}' has no version at stage '${stage}'${describeStages(await this.load(name))}`,
      'not-found',
    );
  }

  async listVersions(name: string): Promise<VersionInfo[]> {
    const state = await this.load(name);
    return state.versions.map((r) => versionInfo(state, r));
  }

  listModels(): Promise<string[]> {
    return this.backend.listModels();
  }

  async history(name: string): Promise<HistoryEvent[]> {
    return (await this.load(name)).history;
  }

  async state(name: string): Promise<ModelSummary> {
    const s = await this.load(name);
    return {
      model: s.model,
      latest: latestVersion(s),
      versions: s.versions.length,
      stages: { ...s.stages },
      archived: [...s.archived],
      revision: s.revision,
      updated_at: s.updated_at,
    };
  }

  /**
   * Put version `version`'s files in `destDir` (replaced atomically: a failed or corrupt download
   * leaves what was there before), each checked against the md5 recorded at registration.
   */
  async fetchBundle(name: string, version: number, destDir: string, opts: FetchOptions = {}): Promise<FetchedBundle> {
    const info = await this.getVersion(name, version);
    const verify = opts.verify ?? true;
    const check = async (dir: string) => {
      const problems = verify ? await verifyBundleDir(dir, info.bundle.files) : [];
      if (problems.length)
        throw new RegistryError(
          `${name} v${version} in ${this.describe()} is damaged: ${problems.join('; ')}`,
          'corrupt',
        );
    };
    if (opts.inPlace && this.backend.localBundleDir) {
      const dir = this.backend.localBundleDir(info.bundle);
      await check(dir);
      return { dir, inPlace: true, version: info };
    }
    const dir = resolve(destDir);
    await replaceDirAtomic(dir, async (tmp) => {
      await this.backend.fetchBundleFiles(info.bundle, tmp);
      await check(tmp);
    });
    return { dir, inPlace: false, version: info };
  }

  /** Check a model: state invariants, history replay, and every version's stored files. */
  async verify(name: string): Promise<VerifyReport> {
    const state = await this.load(name);
    const problems = checkState(state);
    for (const v of state.versions) {
      for (const p of await this.backend.verifyBundle(v.bundle)) problems.push(`v${v.version}: ${p}`);
    }
    const orphans = ((await this.backend.orphanBundles?.(name, state)) ?? []).map((o) => o.path);
    return { model: name, ok: problems.length === 0, problems, versionsChecked: state.versions.length, orphans };
  }
}

/**
 * `gs://bucket/prefix` → GCS; `file:///x` or a path (relative to `baseDir`) → local directory.
 * Opening waits for nothing, but stays a promise: callers await it and a bad URL rejects it.
 */
export function openRegistry(url: string, opts: OpenRegistryOptions = {}): Promise<Registry> {
  return new Promise((done) => done(createRegistry(url, opts)));
}

function createRegistry(url: string, opts: OpenRegistryOptions): Registry {
  const log = opts.log ?? createLogger({ component: 'registry' });
  const common = { log, fault: opts.faultHook };
  let backend: RegistryBackend;
  if (url.startsWith('gs://')) {
    const { bucket, path } = parseGsUrl(url);
    backend = new GcsRegistryBackend(bucket, path, {
      ...common,
      storage: opts.storage,
      retry: opts.retry,
      credentials: opts.credentials,
    });
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new RegistryError(`unsupported registry URL '${url}': use a local path or gs://bucket/prefix`, 'invalid');
  } else {
    const dir = url.startsWith('file://') ? new URL(url).pathname : resolve(opts.baseDir ?? process.cwd(), url);
    backend = new LocalRegistryBackend(dir, { ...common, lock: opts.lock });
  }
  return new Registry(backend, { clock: opts.clock, log, env: opts.env });
}

/**
 * How a registry is named where others read it (`described`: what `describe()` returned): a bucket
 * URL as is, a local directory relative to `base` (an absolute path differs on every clone and
 * tells clients the server's file layout). A directory outside `base` is named relative
 * (`outside: 'relative'`, for committed files) or only by its last component (`'masked'`, for
 * answers to clients; the logs keep the full path).
 */
export function nameRegistryFrom(described: string, base: string, outside: 'relative' | 'masked'): string {
  if (!isAbsolute(described)) return described;
  const rel = relative(base, described).split('\\').join('/');
  if (outside === 'relative' || (!rel.startsWith('..') && !isAbsolute(rel))) return rel || '.';
  return `<local registry ${described.split(/[\\/]/).filter(Boolean).pop() ?? ''}>`;
}
