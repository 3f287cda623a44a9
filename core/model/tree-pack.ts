/**
 * A tree ensemble packed for serving: every tree's nodes depth-first in one Int32Array of
 * variable-length records, a split's near child the next record. `CompiledTree` (./tree-value.ts)
 * keeps each field in its own array (training builds those in shared memory); walked that way, a
 * 600-tree ensemble pays a cache miss per array per node.
 *
 * Scoring a row is bound by memory latency: on the quick default it takes ~3,000 steps over the
 * records (2.7 MB; 3.9 MB as the former fixed 16-byte records beside their sets), more than a
 * core's L2 holds, and each step's address depends on the last. So a step touches one cache line:
 * two thirds of the steps are categorical splits, whose 256-bit sets sit inside their records, as a
 * leaf's value sits inside its. For fewer than 16 rows a step has no data-dependent branch (a path
 * is close to random for the branch predictor, and a mispredicted step discards the read of the
 * next node) and four walks are in flight at once so the core overlaps their reads: four ranges of
 * trees of one row, or four rows, a lane each; a leaf's "far child" is the root of the next tree,
 * so a lane streams through its trees without stopping. From 16 rows the walk goes tree by tree
 * with ordinary branches (a tree's records stay in L1 across the rows; see TREE_MAJOR_FROM).
 *
 * A step to the near child needs no read: the next record is o + 2 or o + 10. A step to the far
 * child reads its offset from the record first, a load the next step waits for. So the near child
 * is the side most rows take where that is known: a categorical split's right child (the bins
 * outside its set; 83–85 % of categorical steps on the quick default), an ordered split's left
 * (either side is as likely; its right side, with SKIP, is no range a record can test). On the
 * quick default ~2,100–2,300 of a row's ~3,000 steps went far with every left child near, and
 * 800–1,000 do so now: 9–11 % less CPU a row on one repeated record from 16 rows, 10–20 % on
 * random rows, about the same for one row with warm caches.
 *
 * Records (offsets in words, all even so a leaf's value is 8-byte aligned): an ordered split is 2
 * words, a categorical split 10, a leaf 4. Word 0: bits 0–15 the input index, bit 16 SKIP (ordered:
 * missing values, bin 0, go right), bit 17 CATEGORICAL, bits 18–30 the ordered split's limit, bit
 * 31 set on a leaf (whose other bits are 0: input 0, limit 0, so it always "goes far"). Word 1:
 * the far child's offset (an ordered split's right child, a categorical split's left); a leaf's:
 * the next tree's root, or PARK (offset 0, a split that always goes far, to itself) after the last
 * tree. Then a categorical split's 8 words of the bins that go to its near (right) child, the
 * complement of training's left-going set, or a leaf's Float64 value. Bin b goes left (near) at an
 * ordered split when 0 ≤ b − skip < limit, which is b ≤ threshold with bin 0 as trained.
 *
 * Each row's scores are added tree by tree in the compiled trees' order, as `treeValue` sums them,
 * so the outputs are bit-identical (./tree-pack.test.ts compares them on random trees and rows).
 */
import type { CompiledTree } from './tree-value.ts';

const INPUT_MASK = 0xffff;
const SKIP_SHIFT = 16;
const CAT_SHIFT = 17;
const CATEGORICAL = 1 << CAT_SHIFT;
const LIMIT_SHIFT = 18;
const LIMIT_MASK = 0x1fff;
const LEAF = 1 << 31;
/** Lockstep lanes: enough independent reads in flight to hide most of a miss, few enough for registers. */
export const LANES = 4;
const PARK = 0;
/** A categorical step reads up to 9 words past its record's start, a leaf has 4: the tail pads the rest. */
const TAIL = 8;

export interface PackedEnsemble {
  /** The records (see the file comment). */
  code: Int32Array;
  /** The same memory as Float64 (leaf values). */
  f64: Float64Array;
  /** Offset of each tree's root record. */
  roots: Int32Array;
}

/** The child laid out next to split `i`: a categorical split's right child (its other bins), an ordered split's left. */
const nearChild = (t: CompiledTree, i: number) => (t.categorical[i] ? t.right[i] : t.left[i]);
const farChild = (t: CompiledTree, i: number) => (t.categorical[i] ? t.left[i] : t.right[i]);

/** Each node reachable from the root, depth-first, near child first (training may leave unused slots). */
function preorder(t: CompiledTree): number[] {
  const order: number[] = [];
  const stack = [0];
  while (stack.length) {
    const i = stack.pop()!;
    order.push(i);
    if (t.feature[i] >= 0) stack.push(farChild(t, i), nearChild(t, i));
  }
  return order;
}

const recordWords = (t: CompiledTree, i: number) => (t.feature[i] < 0 ? 4 : t.categorical[i] ? 10 : 2);

export function packEnsemble(trees: readonly CompiledTree[]): PackedEnsemble {
  const orders = trees.map(preorder);
  let words = 2; // PARK
  trees.forEach((t, ti) => {
    for (const i of orders[ti]) words += recordWords(t, i);
  });
  const buffer = new ArrayBuffer((words + TAIL) * 4);
  const code = new Int32Array(buffer);
  const f64 = new Float64Array(buffer);
  const roots = new Int32Array(trees.length);
  // PARK: word 0 = 0 (input 0, ordered, limit 0: always far), word 1 = its own offset.
  code[PARK + 1] = PARK;
  let at = 2;
  const offsets = trees.map((t, ti) => {
    roots[ti] = at;
    const offset = new Map<number, number>();
    for (const i of orders[ti]) {
      offset.set(i, at);
      at += recordWords(t, i);
    }
    return offset;
  });
  trees.forEach((t, ti) => {
    const offset = offsets[ti];
    for (const i of orders[ti]) {
      const me = offset.get(i)!;
      const f = t.feature[i];
      if (f < 0) {
        code[me] = LEAF;
        code[me + 1] = ti + 1 < trees.length ? roots[ti + 1] : PARK;
        f64[(me + 2) >> 1] = t.value[i];
        continue;
      }
      if (f > INPUT_MASK) throw new Error(`tree input ${f} exceeds the ${INPUT_MASK + 1} inputs a packed tree indexes`);
      if (offset.get(nearChild(t, i)) !== me + recordWords(t, i))
        throw new Error('packEnsemble: a near child is not laid out next to its parent');
      if (t.categorical[i]) {
        code[me] = f | (1 << CAT_SHIFT);
        // The bins that go right, to the near child: every bin not in the left-going set.
        for (let j = 0; j < 8; j++) code[me + 2 + j] = ~t.masks[i * 8 + j];
      } else {
        const skip = t.defaultLeft[i] === 1 ? 0 : 1;
        // Bins are bytes: a threshold past 255 sends every bin left (and must not overflow the field).
        const limit = Math.min(255, Math.max(0, t.threshold[i])) + 1 - skip;
        code[me] = f | (skip << SKIP_SHIFT) | (limit << LIMIT_SHIFT);
      }
      code[me + 1] = offset.get(farChild(t, i))!;
    }
  });
  return { code, f64, roots };
}

/** The leaf value of tree `tree` for the row whose bins start at `at` (one walk; for checks). */
export function packedTreeValue(p: PackedEnsemble, tree: number, bins: Uint8Array, at: number): number {
  const code = p.code;
  let o = p.roots[tree];
  for (;;) {
    const w = code[o];
    if (w < 0) return p.f64[(o + 2) >> 1];
    const b = bins[at + (w & INPUT_MASK)];
    if (w & CATEGORICAL) {
      if ((code[o + 2 + (b >>> 5)] >>> (b & 31)) & 1) {
        o += 10;
        continue;
      }
    } else if ((b - ((w >>> SKIP_SHIFT) & 1)) >>> 0 < w >>> LIMIT_SHIFT) {
      o += 2;
      continue;
    }
    o = code[o + 1];
  }
}

/** The record after `o` (word 0 `w`) for the row at `at`: near or far, without a branch. */
function next(code: Int32Array, bins: Uint8Array, o: number, w: number, at: number): number {
  const b = bins[at + (w & INPUT_MASK)];
  const cat = (w >>> CAT_SHIFT) & 1;
  const d = b - ((w >>> SKIP_SHIFT) & 1);
  // Ordered: 0 ≤ d < limit from two sign bits (a categorical split and a leaf have limit 0).
  // Categorical: bit b of the set; an ordered split reads its neighbour's word and masks it out.
  const near =
    (((d - ((w >>> LIMIT_SHIFT) & LIMIT_MASK)) & ~d) >>> 31) | ((code[o + 2 + ((b >>> 5) & -cat)] >>> (b & 31)) & cat);
  const far = code[o + 1];
  return far + ((o + 2 + (cat << 3) - far) & -near);
}

/**
 * Four lanes in lockstep, lane j from tree `from[j]` on the row at `at[j]` until it is past tree
 * `to[j]` − 1; `leafAt[j · stride + t]` gets the offset of its tree t's leaf (`stride` ≥ trees + 1:
 * a lane past the last tree parks and writes into the spare entry). A lane that is done walks on
 * into the next trees while the others finish; what it writes there is ignored.
 */
function walk4(p: PackedEnsemble, bins: Uint8Array, lanes: Int32Array, leafAt: Int32Array, stride: number): void {
  const { code, roots } = p;
  const n = roots.length;
  let t0 = lanes[0];
  let t1 = lanes[1];
  let t2 = lanes[2];
  let t3 = lanes[3];
  const e0 = lanes[4] - 1;
  const e1 = lanes[5] - 1;
  const e2 = lanes[6] - 1;
  const e3 = lanes[7] - 1;
  const a0 = lanes[8];
  const a1 = lanes[9];
  const a2 = lanes[10];
  const a3 = lanes[11];
  let o0 = t0 < n ? roots[t0] : PARK;
  let o1 = t1 < n ? roots[t1] : PARK;
  let o2 = t2 < n ? roots[t2] : PARK;
  let o3 = t3 < n ? roots[t3] : PARK;
  // Until every lane is past its last tree: each (end − 1 − t) negative.
  while (((e0 - t0) & (e1 - t1) & (e2 - t2) & (e3 - t3)) >= 0) {
    const w0 = code[o0];
    const w1 = code[o1];
    const w2 = code[o2];
    const w3 = code[o3];
    // A leaf (w < 0) records where its tree ended, and its lane goes on to the next tree.
    leafAt[t0] = o0;
    leafAt[stride + t1] = o1;
    leafAt[2 * stride + t2] = o2;
    leafAt[3 * stride + t3] = o3;
    t0 -= w0 >> 31;
    t1 -= w1 >> 31;
    t2 -= w2 >> 31;
    t3 -= w3 >> 31;
    o0 = next(code, bins, o0, w0, a0);
    o1 = next(code, bins, o1, w1, a1);
    o2 = next(code, bins, o2, w2, a2);
    o3 = next(code, bins, o3, w3, a3);
  }
}

/**
 * From this many rows, tree by tree with the branchy walk: a tree's records stay in L1 across the
 * rows, and rows alike (a batch of similar records) let the branch predictor run ahead. Measured
 * on the quick default (near-child layout, best of 7–9, load ≈ 7), CPU µs per row, lanes vs tree
 * by tree: realistic distinct rows 27 vs 33 at 1 row, 24 vs 29 at 4, 21.5 vs 25 at 8, 21.3 vs 23.2
 * at 12, 21.7 vs 22.4 at 16, 23.6 vs 20.9 at 32, 22 vs 20 at 100; one repeated record 17 vs 8 from
 * 4 rows to 15 (every branch predicted). Lower, repeated records would gain half; distinct ones
 * lose 5–15 % below 16 rows.
 */
const TREE_MAJOR_FROM = 16;

/**
 * Tree by tree, each row walked with ordinary branches: packedTreeValue's walk written out here
 * with the arrays in locals (a call per tree and row cost ~10 % of a 100-row batch).
 */
function addTreeMajor(
  p: PackedEnsemble,
  bins: Uint8Array,
  rows: number,
  width: number,
  k: number,
  treeCount: number,
  out: Float64Array,
): void {
  const { code, f64, roots } = p;
  for (let t = 0; t < treeCount; t++) {
    const root = roots[t];
    const c = t % k;
    for (let r = 0, at = 0; r < rows; r++, at += width) {
      let o = root;
      for (;;) {
        const w = code[o];
        if (w < 0) break;
        const b = bins[at + (w & INPUT_MASK)];
        if (w & CATEGORICAL) {
          if ((code[o + 2 + (b >>> 5)] >>> (b & 31)) & 1) {
            o += 10;
            continue;
          }
        } else if ((b - ((w >>> SKIP_SHIFT) & 1)) >>> 0 < w >>> LIMIT_SHIFT) {
          o += 2;
          continue;
        }
        o = code[o + 1];
      }
      out[r * k + c] += f64[(o + 2) >> 1];
    }
  }
}

const leafScratch = new WeakMap<PackedEnsemble, Int32Array>();
/** from[4], to[4], at[4] of a walk4 call. */
const lanes = new Int32Array(12);

/**
 * Adds the first `treeCount` trees' values to `out` (rows × k, row-major; tree t adds to class
 * t mod k), each row's trees in tree order. Four rows at a time, a lane each (walking nearly in
 * step, they find a tree's records in cache); a last one to three rows one at a time, its trees
 * split into four ranges, a lane each.
 */
export function addTreeScores(
  p: PackedEnsemble,
  bins: Uint8Array,
  rows: number,
  width: number,
  k: number,
  treeCount: number,
  out: Float64Array,
): void {
  // A lane would wait forever for a tree that is not there.
  if (!(treeCount >= 0 && treeCount <= p.roots.length))
    throw new Error(`addTreeScores: ${treeCount} trees asked of an ensemble of ${p.roots.length}`);
  if (rows >= TREE_MAJOR_FROM) return addTreeMajor(p, bins, rows, width, k, treeCount, out);
  const f64 = p.f64;
  const stride = p.roots.length + 1;
  let leafAt = leafScratch.get(p);
  if (!leafAt) leafScratch.set(p, (leafAt = new Int32Array(LANES * stride)));
  let r = 0;
  for (; r + LANES <= rows; r += LANES) {
    for (let j = 0; j < LANES; j++) {
      lanes[j] = 0;
      lanes[4 + j] = treeCount;
      lanes[8 + j] = (r + j) * width;
    }
    walk4(p, bins, lanes, leafAt, stride);
    for (let j = 0; j < LANES; j++) {
      const row = (r + j) * k;
      for (let t = 0; t < treeCount; t++) out[row + (t % k)] += f64[(leafAt[j * stride + t] + 2) >> 1];
    }
  }
  for (; r < rows; r++) {
    for (let j = 0; j < LANES; j++) {
      lanes[j] = Math.floor((treeCount * j) / LANES);
      lanes[4 + j] = Math.floor((treeCount * (j + 1)) / LANES);
      lanes[8 + j] = r * width;
    }
    walk4(p, bins, lanes, leafAt, stride);
    for (let j = 0; j < LANES; j++)
      for (let t = lanes[j]; t < lanes[4 + j]; t++) out[r * k + (t % k)] += f64[(leafAt[j * stride + t] + 2) >> 1];
  }
}
