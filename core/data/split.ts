/**
 * Train / validation / test assignment. `time`: the latest records are test and the ones before
 * them validation (what production sees: the future). `hash`: a record's split depends only on its
 * own key values, so it never moves when more data arrives.
 */
import type { Table } from './table.ts';
import { stableArgsort } from './table.ts';

export const TRAIN = 0;
export const VALIDATION = 1;
export const TEST = 2;
export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;

export function timeSplit(times: Float64Array, validationFraction: number, testFraction: number): Uint8Array {
  const n = times.length;
  const order = stableArgsort(times);
  const out = new Uint8Array(n);
  // Cut points move forward to a change of timestamp so no instant is split across sets.
  const cutAt = (k: number) => {
    let i = Math.max(0, Math.min(n, k));
    while (i > 0 && i < n && times[order[i]] === times[order[i - 1]]) i++;
    return i;
  };
  const testStart = cutAt(Math.round(n * (1 - testFraction)));
  const valStart = Math.min(testStart, cutAt(Math.round(n * (1 - testFraction - validationFraction))));
  for (let i = valStart; i < testStart; i++) out[order[i]] = VALIDATION;
  for (let i = testStart; i < n; i++) out[order[i]] = TEST;
  return out;
}

/** FNV-1a 32-bit over UTF-16 code units: small, fast and stable across platforms. */
export function fnv1a(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Final avalanche so nearby keys spread over [0, 2^32).
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashSplit(table: Table, keyColumns: string[], validationFraction: number, testFraction: number, seed: number): Uint8Array {
  const cols = keyColumns.map((k) => {
    const c = table.columns[k];
    if (!c) throw new Error(`split.hash_key column "${k}" is not in the data`);
    return c;
  });
  const out = new Uint8Array(table.length);
  for (let r = 0; r < table.length; r++) {
    let key = '';
    for (const c of cols) {
      key += c.type === 'string' ? (c.codes[r] < 0 ? '\u0000' : c.dict[c.codes[r]]) : String(c.values[r]);
      key += '\u001f';
    }
    const u = fnv1a(key, seed) / 4294967296;
    out[r] = u < testFraction ? TEST : u < testFraction + validationFraction ? VALIDATION : TRAIN;
  }
  return out;
}

export function indicesOf(assignment: Uint8Array, which: number): Uint32Array {
  let count = 0;
  for (const a of assignment) if (a === which) count++;
  const out = new Uint32Array(count);
  let j = 0;
  for (let i = 0; i < assignment.length; i++) if (assignment[i] === which) out[j++] = i;
  return out;
}

/**
 * timeSplit over a time column read a chunk at a time, for a column already in time order (what
 * ingest writes): then the sorted order is the row order and the split is two row positions,
 * found in one pass holding nothing per row. `add` returns false as soon as the column is out of
 * order (NaN sorts last, as in stableArgsort); the caller then needs the whole column and timeSplit.
 */
export class SortedTimeCuts {
  private at = 0;
  private prev = NaN;
  private sorted = true;
  /** Wanted cut positions (before moving to a change of timestamp) and where they landed (-1: not yet). */
  private readonly wanted: [number, number];
  private readonly found: [number, number] = [-1, -1];

  constructor(
    private readonly n: number,
    validationFraction: number,
    testFraction: number,
  ) {
    const clamp = (k: number) => Math.max(0, Math.min(n, k));
    this.wanted = [clamp(Math.round(n * (1 - testFraction - validationFraction))), clamp(Math.round(n * (1 - testFraction)))];
  }

  add(times: ArrayLike<number>): boolean {
    for (let j = 0; j < times.length && this.sorted; j++, this.at++) {
      const t = times[j];
      const i = this.at;
      if (i > 0 && (t < this.prev || (Number.isNaN(this.prev) && !Number.isNaN(t)))) this.sorted = false;
      // A cut moves forward to the first row whose timestamp differs from the row before it.
      for (let c = 0; c < 2; c++) if (this.found[c] < 0 && i >= this.wanted[c] && (i === 0 || t !== this.prev)) this.found[c] = i;
      this.prev = t;
    }
    return this.sorted;
  }

  /** Row positions where validation and test start (rows before validationStart are train). */
  cuts(): { validationStart: number; testStart: number } {
    if (!this.sorted) throw new Error('SortedTimeCuts: the time column is not in time order');
    if (this.at !== this.n) throw new Error(`SortedTimeCuts: ${this.at} times read of ${this.n}`);
    const [val, test] = this.found.map((f) => (f < 0 ? this.n : f));
    return { validationStart: Math.min(test, val), testStart: test };
  }
}

/** The split of rows [rowStart, rowStart + length) by the row positions of SortedTimeCuts. */
export function splitByCuts(rowStart: number, length: number, cuts: { validationStart: number; testStart: number }): Uint8Array {
  const out = new Uint8Array(length);
  for (let r = 0; r < length; r++) {
    const i = rowStart + r;
    out[r] = i < cuts.validationStart ? TRAIN : i < cuts.testStart ? VALIDATION : TEST;
  }
  return out;
}
