/**
 * The exact distribution of a numeric column as a count per distinct value, gathered a chunk at a
 * time: quantiles, min/max and sums in sorted order equal those of the whole sorted column, while
 * memory grows with the number of distinct values (a few thousand distances, hours, prices), not
 * with rows. A column with a distinct value on nearly every row still holds one entry per value.
 */
export class ValueCounts {
  private readonly counts = new Map<number, number>();
  /** Finite values seen. */
  n = 0;
  /** Non-finite values seen (NaN = missing, ±Infinity). */
  missing = 0;

  add(values: ArrayLike<number>): this {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) {
        this.missing++;
        continue;
      }
      this.n++;
      this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
    }
    return this;
  }

  sorted(): SortedValueCounts {
    const values = Float64Array.from(this.counts.keys()).sort();
    const cumulative = new Float64Array(values.length);
    let total = 0;
    for (let i = 0; i < values.length; i++) cumulative[i] = total += this.counts.get(values[i])!;
    return new SortedValueCounts(values, cumulative);
  }
}

export class SortedValueCounts {
  constructor(
    /** Distinct finite values, ascending. */
    readonly values: Float64Array,
    /** cumulative[i]: how many values are ≤ values[i]. */
    readonly cumulative: Float64Array,
  ) {}

  get n(): number {
    return this.cumulative.length ? this.cumulative[this.cumulative.length - 1] : 0;
  }

  /** The value at 0-based position `rank` of the sorted column. */
  at(rank: number): number {
    let lo = 0,
      hi = this.values.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid] > rank) hi = mid;
      else lo = mid + 1;
    }
    return this.values[lo];
  }

  count(i: number): number {
    return this.cumulative[i] - (i ? this.cumulative[i - 1] : 0);
  }

  /** Σv and Σv² added in ascending order, one value at a time: the same floating-point sums as a loop over the sorted column. */
  sortedSums(): { sum: number; sumSq: number } {
    let sum = 0,
      sumSq = 0;
    for (let i = 0; i < this.values.length; i++) {
      const v = this.values[i];
      for (let k = this.count(i); k > 0; k--) {
        sum += v;
        sumSq += v * v;
      }
    }
    return { sum, sumSq };
  }
}
