/**
 * Keeps the registry's `production` version loaded. A new version is fetched, loaded, warmed and
 * checked against its golden examples before one assignment swaps it in; requests hold a reference
 * to the version they run on, and a retired version is disposed only after its last request.
 * A version that fails any step is refused (logged, counted) and the current one keeps serving.
 */
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import {
  loadBundle,
  NonFiniteBundleError,
  prepareBundleModel,
  scoringOf,
  type LoadedBundle,
} from '../core/model/bundle.ts';
import { nameRegistryFrom, type Registry } from '../core/registry/index.ts';
import type { Logger } from '../core/platform/log.ts';
import type { ApiMetrics } from './prometheus.ts';
import { OutputHealth } from './output-health.ts';

export interface ServedModel {
  bundle: LoadedBundle;
  name: string;
  version: number;
  stage: string;
  loadedAt: Date;
  refs: number;
  retired: boolean;
  /** Set when the model's outputs turned non-finite while serving (its golden rows, or too many served rows). */
  unhealthy: string | null;
  /** Served rows without a finite output over the recent window (api/output-health.ts). */
  health: OutputHealth;
}

/** A refusal with the reason label of model_load_failures_total. */
class RefusedBundle extends Error {
  constructor(
    readonly reason: 'golden_mismatch' | 'non_finite_output',
    message: string,
  ) {
    super(message);
  }
}

/** Indices of rows that passed validation but produced no finite output. */
export function nonFiniteRows(out: { predictions: (number | null)[]; errors: unknown[][] }): number[] {
  const rows: number[] = [];
  out.predictions.forEach((v, i) => {
    if (out.errors[i].length === 0 && (v === null || !Number.isFinite(v))) rows.push(i);
  });
  return rows;
}

export interface ModelManagerOptions {
  registry: Registry;
  tf: typeof tfjs;
  backend: string;
  name: string;
  stage: string;
  cacheDir: string;
  metrics: ApiMetrics;
  log: Logger;
  goldenTolerance: number;
  clock?: () => Date;
  /** How a fetched bundle directory is loaded (default core/model/bundle.ts; tests inject faults). */
  load?: typeof loadBundle;
}

export type RefreshResult = {
  status: 'unchanged' | 'swapped' | 'no-version' | 'refused';
  version: number | null;
  detail?: string;
  /** Why a refusal happened: the registry could not be read, or the bundle failed a check. */ cause?:
    'registry' | 'bundle';
};

export class ModelManager {
  private served: ServedModel | null = null;
  private refused = new Map<number, string>();
  /** The stage was found empty while a model is served, and that was logged (once per emptying). */
  private stageEmptyWarned = false;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  lastError: string | null = null;

  constructor(private readonly o: ModelManagerOptions) {}

  get current(): ServedModel | null {
    return this.served;
  }

  get backend(): string {
    return this.o.backend;
  }

  acquire(): ServedModel | null {
    const m = this.served;
    if (m) m.refs++;
    return m;
  }

  release(m: ServedModel): void {
    m.refs--;
    if (m.retired && m.refs === 0) this.dispose(m);
  }

  /** Resolve the stage pointer and swap if it moved. Calls are serialised. `force` retries refused versions. */
  refresh(force = false): Promise<RefreshResult> {
    const run = this.chain.then(() => this.doRefresh(force));
    this.chain = run.catch(() => undefined);
    return run;
  }

  start(pollMs: number): void {
    const tick = () => {
      this.refresh().catch((err) => this.o.log.error('model refresh failed', { error: (err as Error).message }));
    };
    this.timer = setInterval(tick, pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.chain;
    const m = this.served;
    this.served = null;
    if (m) {
      m.retired = true;
      if (m.refs === 0) this.dispose(m);
    }
  }

  /**
   * What to do when the stage points nowhere: assign the newest version that is registered but in
   * no stage (a `pipeline:start` registers candidates only), or train one.
   */
  private async noVersionHint(): Promise<string> {
    const { registry, name, stage } = this.o;
    const waiting = await registry
      .listVersions(name)
      .then((vs) => vs.filter((v) => !v.archived && v.stages.length === 0).at(-1))
      .catch(() => undefined);
    return waiting
      ? `v${waiting.version} is registered but in no stage: assign it with \`npm run registry -- promote ${waiting.version} ${stage} --reason "…"\`, or run \`npm start\` (it assigns a version that passed its gates)`
      : 'train one with `npm start`';
  }

  private async doRefresh(force: boolean): Promise<RefreshResult> {
    const { registry, name, stage, log } = this.o;
    let target;
    try {
      target = (await registry.listModels()).includes(name) ? await registry.getStage(name, stage) : null;
    } catch (err) {
      this.lastError = `registry unreadable: ${withoutAbsolutePaths((err as Error).message)}`;
      log.warn('cannot read the registry; keeping the current model', {
        registry: registry.describe(),
        error: (err as Error).message,
      });
      return { status: 'refused', version: this.served?.version ?? null, detail: this.lastError, cause: 'registry' };
    }
    if (!target) {
      this.lastError = `no ${stage} version of ${name} in ${registryForClients(registry.describe())}`;
      // A stage emptied under a served model (`registry -- demote`): the model stays (an API that
      // answers nothing helps nobody), but an operator must not think it stopped.
      if (this.served && !this.stageEmptyWarned) {
        this.stageEmptyWarned = true;
        log.warn(
          `the ${stage} stage of ${name} is empty in the registry; still serving v${this.served.version} until a version is assigned to ${stage} (stop the API to stop serving it)`,
          { registry: registryForClients(registry.describe()) },
        );
      }
      return {
        status: 'no-version',
        version: this.served?.version ?? null,
        detail: `${this.lastError}; ${await this.noVersionHint()}`,
      };
    }
    this.stageEmptyWarned = false;
    // An unhealthy served version is loaded again from the registry (a fresh copy may be fine).
    if (this.served?.version === target.version && !this.served.unhealthy)
      return { status: 'unchanged', version: target.version };
    if (!force && this.refused.has(target.version))
      return {
        status: 'refused',
        version: this.served?.version ?? null,
        detail: this.refused.get(target.version),
        cause: 'bundle',
      };

    let bundle: LoadedBundle | undefined;
    try {
      const fetched = await registry.fetchBundle(
        name,
        target.version,
        join(this.o.cacheDir, `${name}-v${target.version}`),
        { inPlace: true },
      );
      bundle = await (this.o.load ?? loadBundle)(this.o.tf, fetched.dir);
      await prepareBundleModel(bundle.model);
      const rows = bundle.golden.map((g) => g.record);
      for (let i = 0; i < 3; i++) bundle.predictRecords(rows); // warm-up: compile kernels, fill caches
      const warm = bundle.predictRecords(rows);
      const invalid = warm.errors.findIndex((e) => e.length > 0);
      if (invalid >= 0)
        throw new RefusedBundle(
          'golden_mismatch',
          `golden example ${invalid} is not a valid input for its own schema: ${warm.errors[invalid].map((e) => `${e.field}: ${e.message}`).join('; ')}`,
        );
      const bad = nonFiniteRows(warm);
      if (bad.length)
        throw new RefusedBundle(
          'non_finite_output',
          `non-finite output (NaN or ±Infinity) on ${bad.length} of ${rows.length} warm-up rows (first: golden example ${bad[0]}); the weights or calibration are broken`,
        );
      const check = bundle.checkGolden(this.o.goldenTolerance);
      if (!check.ok)
        throw new RefusedBundle(
          'golden_mismatch',
          `golden examples differ: ${JSON.stringify(check.mismatches.slice(0, 3))}`,
        );
      // A reload of a version that failed in serving must answer the inputs it failed on; a
      // deterministic fault (a NaN weight the checks above missed) is refused rather than flapping
      // between ready and unready at every poll.
      const failed = this.served?.version === target.version ? this.served.health.failures : [];
      const replay = failed.length ? nonFiniteRows(bundle.predictRecords(failed)) : [];
      if (replay.length)
        throw new RefusedBundle(
          'non_finite_output',
          `v${target.version} still gives no finite output for ${replay.length} of the ${failed.length} served inputs it failed on; promote another version`,
        );
    } catch (err) {
      bundle?.dispose();
      const detail = (err as Error).message;
      this.refused.set(target.version, detail);
      this.lastError = `v${target.version} refused: ${withoutAbsolutePaths(detail)}`;
      this.o.metrics.loadFailures.inc({
        model: name,
        reason:
          err instanceof RefusedBundle
            ? err.reason
            : err instanceof NonFiniteBundleError
              ? 'non_finite_output'
              : /golden/.test(detail)
                ? 'golden_mismatch'
                : 'load_error',
      });
      log.error(
        `refusing ${name} v${target.version}; still serving ${this.served ? `v${this.served.version}` : 'nothing'}`,
        { error: detail },
      );
      return { status: 'refused', version: this.served?.version ?? null, detail, cause: 'bundle' };
    }
    const next: ServedModel = {
      bundle,
      name,
      version: target.version,
      stage,
      loadedAt: (this.o.clock ?? (() => new Date()))(),
      refs: 0,
      retired: false,
      unhealthy: null,
      health: new OutputHealth(),
    };
    const previous = this.served;
    this.served = next; // the swap: new requests see `next` from here on
    this.refused.delete(target.version);
    this.lastError = null;
    this.publishInfo(previous, next);
    if (previous) {
      previous.retired = true;
      if (previous.refs === 0) this.dispose(previous);
      if (previous.version !== next.version) this.o.metrics.swaps.inc({ model: name });
    }
    log.info(`serving ${name} v${next.version} (${stage})`, {
      previous: previous?.version ?? null,
      candidate: bundle.meta.candidate,
      backend: this.o.backend,
      scoring: scoringOf(bundle.model),
    });
    return { status: 'swapped', version: next.version };
  }

  /**
   * Every served batch: `rows` rows, of which the inputs `failed` got no finite output. The model
   * turns unhealthy (readiness 503 until a healthy copy or version is loaded) when its own golden
   * rows now give non-finite outputs too, or when failures pass the bound of api/output-health.ts;
   * one odd record alone leaves readiness unchanged, so a client cannot take a healthy pod out of
   * service with it.
   */
  reportOutputs(m: ServedModel, rows: number, failed: readonly unknown[]): void {
    m.health.record(rows, failed);
    if (!failed.length) return;
    this.o.metrics.nonFinite.inc({ model: m.name }, failed.length);
    if (m.unhealthy || m.retired) return;
    const probe = m.bundle.predictRecords(m.bundle.golden.map((g) => g.record));
    const bad = nonFiniteRows(probe);
    const why = bad.length
      ? `non-finite outputs on ${bad.length} of ${probe.predictions.length} golden examples`
      : m.health.verdict();
    if (!why) return;
    m.unhealthy = `${m.name} v${m.version} produces ${why} (since ${new Date().toISOString()}); reloading it from the registry on the next poll`;
    this.lastError = m.unhealthy;
    this.o.log.error('served model produces non-finite outputs; readiness is now 503', {
      model: m.name,
      version: m.version,
      reason: why,
    });
  }

  private publishInfo(previous: ServedModel | null, next: ServedModel): void {
    const info = this.o.metrics.info;
    if (previous) info.remove(this.infoLabels(previous));
    info.set(this.infoLabels(next), 1);
  }

  private infoLabels(m: ServedModel) {
    return {
      name: m.name,
      version: String(m.version),
      stage: m.stage,
      git_sha: m.bundle.meta.git_commit ?? '',
      data_md5: m.bundle.meta.data_md5 ?? '',
      backend: this.o.backend,
    };
  }

  private dispose(m: ServedModel): void {
    m.bundle.dispose();
  }
}

/**
 * The registry as answers (readyz, 503 bodies) name it: a bucket URL as is, a local directory
 * relative to the working directory (clients have no business knowing the server's file layout;
 * the logs keep the full path for operators).
 */
export function registryForClients(described: string, cwd = process.cwd()): string {
  return nameRegistryFrom(described, cwd, 'masked');
}

/** An error message with absolute file paths cut to their last component. */
export function withoutAbsolutePaths(message: string): string {
  return message.replace(/(?<![\w.:/])\/(?:[^\s'":,()]+\/)+([^\s'":,()/]+)/g, '…/$1');
}
