/**
 * Adam in plain JavaScript over Float32Arrays, with tfjs's AdamOptimizer arithmetic (β1 0.9,
 * β2 0.999, ε 1e-7, bias correction by the global step) so the dense weights follow the same path
 * they did under tfjs. Embedding tables are updated lazily: only the rows a batch touched move,
 * and their moments decay only when they do (TensorFlow's LazyAdam). Dense Adam over a
 * 200,001-row table touched ≤ 4,096 rows per step but rewrote all 1.8 M values ~10 times per step,
 * which was most of a full-data training step (docs/training-speed.md).
 */

export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } as const;

/** One step's shared factors: the rate and the bias corrections of step `t` (1-based). */
export interface AdamStep {
  rate: number;
  /** 1 − β1^t and 1 − β2^t. */
  c1: number;
  c2: number;
}

export function adamStep(rate: number, t: number): AdamStep {
  return { rate, c1: 1 - ADAM.beta1 ** t, c2: 1 - ADAM.beta2 ** t };
}

/** A parameter array with its gradient and both moments. */
export interface AdamSlot {
  w: Float32Array;
  g: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

export function adamSlot(w: Float32Array): AdamSlot {
  const n = w.length;
  return { w, g: new Float32Array(n), m: new Float32Array(n), v: new Float32Array(n) };
}

/** Update values [from, to) of a slot from its gradient, then clear that gradient. */
export function adamUpdateRange(s: AdamSlot, step: AdamStep, from = 0, to = s.w.length): void {
  const { beta1, beta2, epsilon } = ADAM;
  const { rate, c1, c2 } = step;
  const { w, g, m, v } = s;
  for (let i = from; i < to; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] -= (rate * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
    g[i] = 0;
  }
}

/**
 * A [rows × dim] table whose gradient arrives row by row: `touch` records which rows a batch
 * reached (once each), `update` applies Adam to those rows only and forgets them.
 */
export class SparseRows {
  readonly slot: AdamSlot;
  private readonly seen: Uint8Array;
  private touched: Int32Array;
  private count = 0;
  constructor(
    table: Float32Array,
    readonly dim: number,
  ) {
    this.slot = adamSlot(table);
    this.seen = new Uint8Array(table.length / dim);
    this.touched = new Int32Array(Math.min(this.seen.length, 4096));
  }
  /** Mark a row as reached by this batch; its gradient is accumulated into `slot.g` by the caller. */
  touch(row: number): void {
    if (this.seen[row]) return;
    this.seen[row] = 1;
    if (this.count === this.touched.length) {
      const grown = new Int32Array(Math.min(this.seen.length, this.touched.length * 2));
      grown.set(this.touched);
      this.touched = grown;
    }
    this.touched[this.count++] = row;
  }
  /** Clear the touched rows' gradients without a step. */
  forget(): void {
    const d = this.dim;
    for (let k = 0; k < this.count; k++) {
      const row = this.touched[k];
      this.slot.g.fill(0, row * d, row * d + d);
      this.seen[row] = 0;
    }
    this.count = 0;
  }
  update(step: AdamStep): void {
    const d = this.dim;
    for (let k = 0; k < this.count; k++) {
      const row = this.touched[k];
      adamUpdateRange(this.slot, step, row * d, row * d + d);
      this.seen[row] = 0;
    }
    this.count = 0;
  }
}
