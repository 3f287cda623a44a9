/**
 * Growing one tree leaf-wise (LightGBM's order, HistGradientBoosting's `max_leaf_nodes`): the
 * leaf whose best split gains most is split next, until `maxLeaves` leaves or no split gains.
 * Each leaf owns a contiguous range of `order` (row indices), partitioned in place when it
 * splits; only the smaller child's histogram is built from its rows, the larger one's is the
 * parent's minus it. A leaf's value is −G/(H+λ) × learning rate.
 */
import type { TreeJson } from '../../core/model/trees.ts';
import {
  buildHistogram,
  buildRootHistogram,
  findBestSplit,
  subtractHistogram,
  type HistLayout,
  type Split,
  type SplitParams,
} from './split.ts';

export interface TreeParams extends SplitParams {
  maxLeaves: number;
  /** 0: no limit. */
  maxDepth: number;
  learningRate: number;
}

export interface GrowInput {
  bins: Uint8Array;
  width: number;
  layout: HistLayout;
  /** The same bins input-major (input f's column at f × rows), for partitioning: one input's bins in a row's order. */
  columns: Uint8Array;
  /** Rows per bin over all rows (split.ts rootCounts); absent: counted while building the root's histogram. */
  counts?: Float64Array;
  grad: Float32Array;
  hess: Float32Array;
  /** Scratch of the rows' length; `order` holds every row index on return, grouped by leaf. */
  order: Int32Array;
  scratch: Int32Array;
}

interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  hist: Float64Array;
  totals: { g: number; h: number; n: number };
  split: Split | null;
}

/** The tree, and each leaf's row range in `order` with its value (to update the training scores). */
export interface GrownTree {
  tree: TreeJson;
  leaves: { start: number; end: number; value: number }[];
}

export function growTree(input: GrowInput, p: TreeParams, pool: Float64Array[]): GrownTree {
  const { bins, width, layout, grad, hess, order } = input;
  const size = layout.total * 3;
  const take = () => {
    const h = pool.pop() ?? new Float64Array(size);
    h.fill(0);
    return h;
  };
  const n = order.length;
  for (let i = 0; i < n; i++) order[i] = i;
  const tree: TreeJson = {
    feature: [-1],
    threshold: [0],
    default_left: [0],
    left: [-1],
    right: [-1],
    value: [0],
    cat_sets: [],
  };
  const rootHist = take();
  if (input.counts) buildRootHistogram(rootHist, bins, width, layout.offsets, grad, hess, input.counts);
  else buildHistogram(rootHist, bins, width, layout.offsets, grad, hess, order, 0, n);
  let g = 0;
  let h = 0;
  for (let r = 0; r < n; r++) {
    g += grad[r];
    h += hess[r];
  }
  const leaves: Leaf[] = [{ node: 0, start: 0, end: n, depth: 0, hist: rootHist, totals: { g, h, n }, split: null }];
  const splittable = (l: Leaf) => l.totals.n >= 2 * p.minSamplesLeaf && (p.maxDepth === 0 || l.depth < p.maxDepth);
  if (splittable(leaves[0])) leaves[0].split = findBestSplit(rootHist, layout, leaves[0].totals, p);

  while (leaves.length < p.maxLeaves) {
    let at = -1;
    for (let i = 0; i < leaves.length; i++) {
      const s = leaves[i].split;
      if (s && (at < 0 || s.gain > leaves[at].split!.gain)) at = i;
    }
    if (at < 0) break;
    const leaf = leaves[at];
    const split = leaf.split!;
    const mid = partition(input, leaf, split);
    const leftNode = tree.feature.length;
    for (let c = 0; c < 2; c++) {
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.default_left.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push(0);
    }
    tree.feature[leaf.node] = split.feature;
    tree.default_left[leaf.node] = split.defaultLeft ? 1 : 0;
    tree.left[leaf.node] = leftNode;
    tree.right[leaf.node] = leftNode + 1;
    if (split.cats) {
      tree.threshold[leaf.node] = tree.cat_sets.length;
      tree.cat_sets.push([...split.cats].sort((a, b) => a - b));
    } else tree.threshold[leaf.node] = split.threshold;

    const lt = split.left;
    const rt = { g: leaf.totals.g - lt.g, h: leaf.totals.h - lt.h, n: leaf.totals.n - lt.n };
    const left: Leaf = {
      node: leftNode,
      start: leaf.start,
      end: mid,
      depth: leaf.depth + 1,
      hist: leaf.hist,
      totals: lt,
      split: null,
    };
    const right: Leaf = { ...left, node: leftNode + 1, start: mid, end: leaf.end, totals: rt };
    const [small, large] = mid - leaf.start <= leaf.end - mid ? [left, right] : [right, left];
    small.hist = take();
    buildHistogram(small.hist, bins, width, layout.offsets, grad, hess, order, small.start, small.end);
    subtractHistogram(large.hist, small.hist, size);
    for (const child of [left, right])
      if (splittable(child)) child.split = findBestSplit(child.hist, layout, child.totals, p);
    leaves.splice(at, 1, left, right);
  }
  const out = leaves.map((l) => {
    // 7 significant digits (float32's precision) keep trees.json compact; training updates its
    // scores with this same rounded value, so validation and serving see the same model.
    const value = Number(((-l.totals.g / (l.totals.h + p.l2)) * p.learningRate).toPrecision(7));
    tree.value[l.node] = value;
    pool.push(l.hist);
    return { start: l.start, end: l.end, value };
  });
  return { tree, leaves: out };
}

/** Stable in-place partition of the leaf's rows: those going left first; returns where the right ones start. */
function partition(input: GrowInput, leaf: Leaf, split: Split): number {
  const { columns, order, scratch } = input;
  const n = order.length;
  const col = columns.subarray(split.feature * n, (split.feature + 1) * n);
  // Which bins go left, as a table: one lookup per row instead of a branch on the split's kind.
  const goesLeft = new Uint8Array(256);
  if (split.cats) for (const c of split.cats) goesLeft[c] = 1;
  else {
    goesLeft[0] = split.defaultLeft ? 1 : 0;
    for (let b = 1; b <= split.threshold && b < 256; b++) goesLeft[b] = 1;
  }
  let l = leaf.start;
  let r = 0;
  // Branch-free (the side is a coin flip to the branch predictor): each row is written to both
  // places and only its side's cursor moves. order[l] is safe to overwrite: l ≤ i, already read.
  for (let i = leaf.start; i < leaf.end; i++) {
    const row = order[i];
    const left = goesLeft[col[row]];
    order[l] = row;
    scratch[r] = row;
    l += left;
    r += 1 - left;
  }
  order.set(scratch.subarray(0, r), l);
  return l;
}
