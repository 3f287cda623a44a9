/**
 * Growing one tree leaf-wise (LightGBM's order, HistGradientBoosting's `max_leaf_nodes`): the
 * leaf whose best split gains most is split next, until `maxLeaves` leaves or no split gains.
 * Each leaf owns a contiguous range of `order` (row indices), partitioned in place when it
 * splits; only the smaller child's histogram is built from its rows, the larger one's is the
 * parent's minus it. A leaf's value is −G/(H+λ) × learning rate. The passes over rows (gradients,
 * histograms) run in ./engine.ts, on one thread or several.
 */
import type { TreeJson } from '../../core/model/trees.ts';
import type { Engine } from './engine.ts';
import { leftTable } from './partition.ts';
import { findBestSplit, subtractHistogram, type HistLayout, type Split, type SplitParams } from './split.ts';

export interface TreeParams extends SplitParams {
  maxLeaves: number;
  /** 0: no limit. */
  maxDepth: number;
  learningRate: number;
}

export interface GrowInput {
  layout: HistLayout;
  /** Gradients asked of the engine (engine.gradients) or set in engine.arrays; `engine.arrays.order` holds every row index on return, grouped by leaf. */
  engine: Engine;
}

interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  /** The engine's histogram slot. */
  slot: number;
  totals: { g: number; h: number; n: number };
  split: Split | null;
}

/** The tree, and each leaf's row range in `order` with its value (to update the training scores). */
export interface GrownTree {
  tree: TreeJson;
  leaves: { start: number; end: number; value: number }[];
}

/** Histogram slots the engine needs for trees of `maxLeaves` leaves (one per leaf). */
export const slotsFor = (maxLeaves: number) => maxLeaves + 1;

export function growTree(input: GrowInput, p: TreeParams): GrownTree {
  const { layout, engine } = input;
  const { order } = engine.arrays;
  const size = layout.total * 3;
  const free = Array.from({ length: slotsFor(p.maxLeaves) }, (_, i) => i).reverse();
  const take = () => free.pop()!;
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
  const rootSlot = take();
  const { g, h } = engine.root(rootSlot);
  const leaves: Leaf[] = [{ node: 0, start: 0, end: n, depth: 0, slot: rootSlot, totals: { g, h, n }, split: null }];
  const splittable = (l: Leaf) => l.totals.n >= 2 * p.minSamplesLeaf && (p.maxDepth === 0 || l.depth < p.maxDepth);
  if (splittable(leaves[0])) leaves[0].split = findBestSplit(engine.hist(rootSlot), layout, leaves[0].totals, p);

  while (leaves.length < p.maxLeaves) {
    let at = -1;
    for (let i = 0; i < leaves.length; i++) {
      const s = leaves[i].split;
      if (s && (at < 0 || s.gain > leaves[at].split!.gain)) at = i;
    }
    if (at < 0) break;
    const leaf = leaves[at];
    const split = leaf.split!;
    const mid = engine.partition(split.feature, leftTable(split, engine.arrays.goesLeft), leaf.start, leaf.end);
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
      slot: leaf.slot,
      totals: lt,
      split: null,
    };
    const right: Leaf = { ...left, node: leftNode + 1, start: mid, end: leaf.end, totals: rt };
    const [small, large] = mid - leaf.start <= leaf.end - mid ? [left, right] : [right, left];
    small.slot = take();
    engine.range(small.slot, small.start, small.end);
    subtractHistogram(engine.hist(large.slot), engine.hist(small.slot), size);
    for (const child of [left, right])
      if (splittable(child)) child.split = findBestSplit(engine.hist(child.slot), layout, child.totals, p);
    leaves.splice(at, 1, left, right);
  }
  const out = leaves.map((l) => {
    // 7 significant digits (float32's precision) keep trees.json compact; training updates its
    // scores with this same rounded value, so validation and serving see the same model.
    const value = Number(((-l.totals.g / (l.totals.h + p.l2)) * p.learningRate).toPrecision(7));
    tree.value[l.node] = value;
    return { start: l.start, end: l.end, value };
  });
  return { tree, leaves: out };
}
