/**
 * Keeps the registry's `production` version loaded. A new version is fetched, loaded, warmed and
 * checked against its golden examples before one assignment swaps it in; requests hold a reference
 * to the version they run on, and a retired version is disposed only after its last request.
 * A version that fails any step is refused (logged, counted) and the current one keeps serving.
 */
import { join } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBundle, type LoadedBundle } from '../core/bundle.ts';
import type { Registry } from '../core/registry/index.ts';
import type { Logger } from '../core/log.ts';
import type { ApiMetrics } from './metrics.ts';

export interface ServedModel {
  bundle: LoadedBundle;
  name: string;
  version: number;
  stage: string;
  loadedAt: Date;
  refs: number;
  retired: boolean;
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
}

export type RefreshResult = { status: 'unchanged' | 'swapped' | 'no-version' | 'refused'; version: number | null; detail?: string };

export class ModelManager {
  private served: ServedModel | null = null;
  private refused = new Map<number, string>();
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

  private async doRefresh(force: boolean): Promise<RefreshResult> {
    const { registry, name, stage, log } = this.o;
    let target;
    try {
      target = (await registry.listModels()).includes(name) ? await registry.getStage(name, stage) : null;
    } catch (err) {
      this.lastError = `registry unreadable: ${(err as Error).message}`;
      log.warn('cannot read the registry; keeping the current model', { registry: registry.describe(), error: (err as Error).message });
      return { status: 'refused', version: this.served?.version ?? null, detail: this.lastError };
    }
    if (!target) {
      this.lastError = `no ${stage} version of ${name} in ${registry.describe()}`;
      return { status: 'no-version', version: this.served?.version ?? null, detail: `${this.lastError}; train one with \`npm start\`` };
    }
    if (this.served?.version === target.version) return { status: 'unchanged', version: target.version };
    if (!force && this.refused.has(target.version)) return { status: 'refused', version: this.served?.version ?? null, detail: this.refused.get(target.version) };

    let bundle: LoadedBundle | undefined;
    try {
      const fetched = await registry.fetchBundle(name, target.version, join(this.o.cacheDir, `${name}-v${target.version}`), { inPlace: true });
      bundle = await loadBundle(this.o.tf, fetched.dir);
      for (let i = 0; i < 3; i++) bundle.predictRecords(bundle.golden.map((g) => g.record)); // warm-up: compile kernels, fill caches
      const check = bundle.checkGolden(this.o.goldenTolerance);
      if (!check.ok) throw new Error(`golden examples differ: ${JSON.stringify(check.mismatches.slice(0, 3))}`);
    } catch (err) {
      bundle?.dispose();
      const detail = (err as Error).message;
      this.refused.set(target.version, detail);
      this.lastError = `v${target.version} refused: ${detail}`;
      this.o.metrics.loadFailures.inc({ model: name, reason: /golden/.test(detail) ? 'golden_mismatch' : 'load_error' });
      log.error(`refusing ${name} v${target.version}; still serving ${this.served ? `v${this.served.version}` : 'nothing'}`, { error: detail });
      return { status: 'refused', version: this.served?.version ?? null, detail };
    }
    const next: ServedModel = { bundle, name, version: target.version, stage, loadedAt: (this.o.clock ?? (() => new Date()))(), refs: 0, retired: false };
    const previous = this.served;
    this.served = next; // the swap: new requests see `next` from here on
    this.refused.delete(target.version);
    this.lastError = null;
    this.publishInfo(previous, next);
    if (previous) {
      previous.retired = true;
      if (previous.refs === 0) this.dispose(previous);
      this.o.metrics.swaps.inc({ model: name });
    }
    log.info(`serving ${name} v${next.version} (${stage})`, { previous: previous?.version ?? null, candidate: bundle.meta.candidate, backend: this.o.backend });
    return { status: 'swapped', version: next.version };
  }

  private publishInfo(previous: ServedModel | null, next: ServedModel): void {
    const info = this.o.metrics.info;
    if (previous) info.remove(this.infoLabels(previous));
    info.set(this.infoLabels(next), 1);
    this.o.metrics.createdAt = Date.parse(next.bundle.meta.created_at) || 0;
    this.o.metrics.modelName = next.name;
  }

  private infoLabels(m: ServedModel) {
    return { name: m.name, version: String(m.version), stage: m.stage, git_sha: m.bundle.meta.git_commit ?? '', data_md5: m.bundle.meta.data_md5 ?? '', backend: this.o.backend };
  }

  private dispose(m: ServedModel): void {
    m.bundle.dispose();
  }
}
