/**
 * Ground truth arriving after the fact (seed 000: prediction error; live accuracy). Served
 * predictions are remembered in a bounded store (capacity and age limit) so `POST /feedback` can
 * join an outcome to what was predicted; joined pairs feed a sliding window whose quality metrics
 * are recomputed off the request path and exported as gauges.
 */
import { accuracy, confusion, f1, mae, precision, recall, rmse, rocAuc } from '../core/model/quality-metrics.ts';

export interface LoggedPrediction {
  at: number;
  version: number;
  value: number;
  threshold?: number;
  hasFeedback?: boolean;
}

/** A remembered prediction and the ring slot that holds its id. */
type Stored = LoggedPrediction & { slot: number };

/**
 * The last `capacity` recorded predictions by id. Ids sit in a ring of `capacity` slots (grown on
 * demand); recording into a used slot forgets the id it held, so a record costs O(1) however full
 * the log is. (Evicting by `map.keys().next()` is not O(1) in V8: deleted entries stay as holes at
 * the front of the Map until it rehashes, and every new iterator walks them — that made each
 * prediction cost up to ~100 µs once 200,000 had been served.)
 */
export class PredictionLog {
  private readonly entries = new Map<string, Stored>();
  private readonly ring: string[] = [];
  private next = 0;

  constructor(
    readonly capacity: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  record(id: string, p: Omit<LoggedPrediction, 'at'>): void {
    const slot = this.next;
    this.next = (slot + 1) % this.capacity;
    if (slot < this.ring.length) {
      const old = this.ring[slot];
      // The id may have expired since, or been recorded again into a newer slot.
      if (this.entries.get(old)?.slot === slot) this.entries.delete(old);
    }
    this.ring[slot] = id;
    // A literal, not a spread: one fixed-shape object per prediction (a spread plus two more
    // fields allocated a second backing store and was ~4× slower here).
    this.entries.set(id, {
      version: p.version,
      value: p.value,
      threshold: p.threshold,
      hasFeedback: p.hasFeedback ?? false,
      at: this.now(),
      slot,
    });
  }

  /** The prediction, or why it cannot be found. */
  lookup(id: string): LoggedPrediction | 'unknown' | 'expired' {
    const e = this.entries.get(id);
    if (!e) return 'unknown';
    if (this.now() - e.at > this.ttlMs) {
      this.entries.delete(id);
      return 'expired';
    }
    return e;
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface FeedbackPair {
  actual: number;
  predicted: number;
  version: number;
}

/** The last `size` joined pairs, oldest overwritten first. */
export class FeedbackWindow {
  private readonly actual: Float64Array;
  private readonly predicted: Float64Array;
  private readonly versions: Int32Array;
  private next = 0;
  private count = 0;

  constructor(readonly size: number) {
    this.actual = new Float64Array(size);
    this.predicted = new Float64Array(size);
    this.versions = new Int32Array(size);
  }

  add(p: FeedbackPair): void {
    this.actual[this.next] = p.actual;
    this.predicted[this.next] = p.predicted;
    this.versions[this.next] = p.version;
    this.next = (this.next + 1) % this.size;
    this.count = Math.min(this.size, this.count + 1);
  }

  get length(): number {
    return this.count;
  }

  snapshot(): { actual: Float64Array; predicted: Float64Array } {
    return { actual: this.actual.slice(0, this.count), predicted: this.predicted.slice(0, this.count) };
  }
}

export type LiveMetrics =
  | {
      task: 'classification';
      n: number;
      accuracy: number;
      precision: number;
      recall: number;
      f1: number;
      roc_auc: number | null;
      positive_rate: number;
    }
  | { task: 'regression'; n: number; mae: number; rmse: number; mean_error: number }
  /** Multi-class models (api/multiclass.ts liveMulticlass): predicted and actual are class indices. */
  | { task: 'multiclass'; n: number; accuracy: number; macro_f1: number };

export function liveMetrics(
  task: 'classification' | 'regression',
  w: { actual: Float64Array; predicted: Float64Array },
  threshold: number,
): LiveMetrics | null {
  const n = w.actual.length;
  if (n === 0) return null;
  if (task === 'regression') {
    let err = 0;
    for (let i = 0; i < n; i++) err += w.predicted[i] - w.actual[i];
    return { task, n, mae: mae(w.actual, w.predicted), rmse: rmse(w.actual, w.predicted), mean_error: err / n };
  }
  const c = confusion(w.actual, w.predicted, threshold);
  const auc = rocAuc(w.actual, w.predicted);
  return {
    task,
    n,
    accuracy: accuracy(c),
    precision: precision(c),
    recall: recall(c),
    f1: f1(c),
    roc_auc: Number.isFinite(auc) ? auc : null,
    positive_rate: (c.tp + c.fn) / n,
  };
}
