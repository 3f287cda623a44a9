/**
 * Live drift inside the serving process: the windows of api/drift-window.ts are judged
 * periodically (off the request path) with core/drift statistics, method chosen per feature type
 * and window size as in params.yaml's `drift` section (Evidently-like defaults). Results feed
 * Prometheus gauges, `GET /drift`, `GET /monitoring`, and the retrain alert.
 */
import { chiSquaredHomogeneity } from '../core/drift/chi2.ts';
import { jensenShannonDistance } from '../core/drift/divergence.ts';
import { ksBinned } from '../core/drift/ks.ts';
import { normaliseByStd, wassersteinBinned } from '../core/drift/wasserstein.ts';
import type { TestResult } from '../core/drift/result.ts';
import { resolveDriftParams, verdict, type FeatureDrift } from '../core/drift/detect.ts';
import { isPredictionTrack } from '../core/drift/fleet.ts';
import type { DriftParams } from '../core/schemas/params.ts';
import { DriftWindows, referenceStds, type WindowSnapshot } from './drift-window.ts';
import type { ServedModel } from './model-manager.ts';
import type { ApiMetrics } from './prometheus.ts';
import type { FleetDriftSources } from './fleet-metrics.ts';

export const DEFAULT_DRIFT: DriftParams = resolveDriftParams();

/** One feature's verdict: core/drift chooses the method by type and window size (see its README). */
export function judge(s: WindowSnapshot, referenceStd: number | undefined, p: DriftParams): FeatureDrift {
  // The windows clamp out-of-range values into the end bins, so the outer buckets are empty.
  const pad = (v: number[]) => [0, ...v, 0];
  return verdict(s.kind, s.n, s.missing, p, (method): TestResult => {
    switch (method) {
      case 'ks':
        return ksBinned(s.reference, s.current);
      case 'wasserstein':
        return normaliseByStd(wassersteinBinned(s.edges!, pad(s.reference), pad(s.current)), referenceStd ?? 1);
      case 'chi2':
        return chiSquaredHomogeneity(s.reference, s.current);
      case 'jensen_shannon':
        return jensenShannonDistance(s.reference, s.current);
    }
  });
}

export interface DriftState {
  model_version: number | null;
  computed_at: string | null;
  window: number;
  window_size: number;
  dataset: { drifted: boolean; drift_share: number; evaluated: number; drifted_features: string[] };
  /** The window's figures, its counters once each (snake_case, as the rest of /drift). */
  features: (Omit<WindowSnapshot, 'unseenTotal' | 'outOfRangeTotal'> & {
    result: FeatureDrift | null;
    drifted: boolean;
    reason?: string;
    unseen_total: number;
    out_of_range_total: number;
  })[];
  history: { at: string; drift_share: number; scores: Record<string, number> }[];
}

export class DriftMonitor {
  private windows: DriftWindows | null = null;
  private version: number | null = null;
  /** The `model` label of the drift gauges: the model whose windows these are. */
  private modelName = '';
  private stds = new Map<string, number>();
  private state: DriftState;
  private timer: NodeJS.Timeout | undefined;
  private readonly exported = new Map<string, { unseen: number; outOfRange: number }>();

  constructor(
    private readonly metrics: ApiMetrics,
    private readonly opts: {
      windowSize: number;
      params: DriftParams;
      historyLength?: number;
      now?: () => Date;
      /** Where the served-bin totals are exported from (summable across replicas). */
      fleet?: FleetDriftSources;
    },
  ) {
    this.state = this.empty();
  }

  private empty(): DriftState {
    return {
      model_version: this.version,
      computed_at: null,
      window: 0,
      window_size: this.opts.windowSize,
      dataset: { drifted: false, drift_share: 0, evaluated: 0, drifted_features: [] },
      features: [],
      history: [],
    };
  }

  /** Called for every served batch (cheap: bin indices and counters only). */
  observe(
    model: ServedModel,
    table: Parameters<DriftWindows['add']>[0],
    predictions: (number | null)[],
    probabilities?: (number[] | null)[],
  ): void {
    if (this.version !== model.version) {
      // A new model brings a new reference profile: start fresh windows against it.
      this.version = model.version;
      this.modelName = model.name;
      this.windows = new DriftWindows(this.opts.windowSize, model.bundle.profile, model.bundle.spec);
      this.stds = referenceStds(model.bundle.profile);
      this.state = this.empty();
      const windows = this.windows,
        stds = this.stds;
      this.opts.fleet?.register(model.name, model.version, () => windows.fleetTracks(stds));
    }
    this.windows!.add(table, predictions, probabilities);
  }

  compute(): DriftState {
    const w = this.windows;
    if (!w) return this.state;
    const p = this.opts.params;
    const features = w.snapshot().map((s) => {
      const v = judge(s, this.stds.get(s.name), p);
      const result = v.status === 'ok' ? v : null;
      const { unseenTotal, outOfRangeTotal, ...window } = s;
      return {
        ...window,
        result,
        drifted: v.drifted,
        ...(v.reason ? { reason: v.reason } : {}),
        unseen_total: unseenTotal,
        out_of_range_total: outOfRangeTotal,
      };
    });
    // Multi-class outputs (`prediction.<class>`) included: a drifting model is not drifting inputs.
    const inputs = features.filter((f) => !isPredictionTrack(f.name) && f.result);
    const drifted = inputs.filter((f) => f.drifted).map((f) => f.name);
    const share = inputs.length ? drifted.length / inputs.length : 0;
    const at = (this.opts.now ?? (() => new Date()))().toISOString();
    const history = [
      ...this.state.history,
      {
        at,
        drift_share: share,
        scores: Object.fromEntries(features.filter((f) => f.result).map((f) => [f.name, f.result!.score ?? 0])),
      },
    ].slice(-(this.opts.historyLength ?? 120));
    this.state = {
      model_version: this.version,
      computed_at: at,
      window: w.length,
      window_size: w.size,
      dataset: {
        drifted: inputs.length > 0 && share >= p.dataset_drift_share,
        drift_share: share,
        evaluated: inputs.length,
        drifted_features: drifted,
      },
      features,
      history,
    };
    this.export();
    return this.state;
  }

  private export(): void {
    const m = this.metrics;
    const model = this.modelName;
    m.driftScore.reset();
    m.driftDetected.reset();
    for (const f of this.state.features) {
      if (f.result) {
        m.driftScore.set({ model, feature: f.name, method: f.result.method }, f.result.score ?? 0);
        m.driftDetected.set({ model, feature: f.name }, f.drifted ? 1 : 0);
      }
      const seen = this.exported.get(f.name) ?? { unseen: 0, outOfRange: 0 };
      if (f.unseen_total > seen.unseen) m.unseenValues.inc({ model, feature: f.name }, f.unseen_total - seen.unseen);
      if (f.out_of_range_total > seen.outOfRange)
        m.outOfRange.inc({ model, feature: f.name }, f.out_of_range_total - seen.outOfRange);
      this.exported.set(f.name, {
        unseen: Math.max(seen.unseen, f.unseen_total),
        outOfRange: Math.max(seen.outOfRange, f.out_of_range_total),
      });
    }
    m.datasetDriftShare.set({ model }, this.state.dataset.drift_share);
    m.datasetDrift.set({ model }, this.state.dataset.drifted ? 1 : 0);
  }

  get current(): DriftState {
    return this.state;
  }

  /**
   * Compute every `intervalMs`, then `onComputed`. A check that throws goes to `onError` and the
   * next tick runs as usual: an exception in a timer would otherwise end the process, and with it
   * every request the pod was answering.
   */
  start(intervalMs: number, onComputed?: (state: DriftState) => void, onError?: (err: Error) => void): void {
    this.timer = setInterval(() => {
      try {
        const state = this.compute();
        onComputed?.(state);
      } catch (err) {
        onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
