/**
 * Ground truth arriving after the fact (seed 000: prediction error; live accuracy). The prediction
 * id carries what the join needs, signed (api/prediction-id.ts), so any replica joins any label;
 * each replica remembers the ids it has joined (bounded) to refuse repeats. Joined pairs feed a
 * sliding window whose quality metrics are recomputed off the request path (this replica's view),
 * and the summable counters of api/fleet-metrics.ts (the fleet's).
 */
import { accuracy, confusion, f1, mae, precision, recall, rmse, rocAuc } from '../core/model/quality-metrics.ts';

/**
 * The last `capacity` keys added, to refuse a repeated label. Keys sit in a ring of `capacity`
 * slots (grown on demand); adding into a used slot forgets the key it held, so an add costs O(1)
 * however full the set is. (Evicting by `map.keys().next()` is not O(1) in V8: deleted entries
 * stay as holes at the front of the Map until it rehashes, and every new iterator walks them —
 * that made each add cost up to ~100 µs once 200,000 were held.)
 */
export class SeenIds {
  private readonly slots = new Map<string, number>();
  private readonly ring: string[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  /** true when `key` is new (and now remembered), false for a repeat. */
  add(key: string): boolean {
    if (this.slots.has(key)) return false;
    const slot = this.next;
    this.next = (slot + 1) % this.capacity;
    if (slot < this.ring.length) this.slots.delete(this.ring[slot]);
    this.ring[slot] = key;
    this.slots.set(key, slot);
    return true;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  get size(): number {
    return this.slots.size;
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
