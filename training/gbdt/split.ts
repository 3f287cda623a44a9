/**
 * Histograms of gradients and the best split of a node, as LightGBM and scikit-learn's
 * HistGradientBoosting find it: per input, sums of gradient, hessian and count per bin; the gain
 * of a split is G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ).
 *
 * Ordered inputs: every threshold between bins, with the missing bin (0) tried on either side.
 * Categorical inputs: the categories with at least `minCategoryCount` rows, sorted by
 * G/(H + catSmooth), and every prefix of that order from either end (at most `maxCatThreshold`
 * categories) as the left set; rarer and unseen categories go right.
 */
import { categoricalSplit, score } from './split-categorical.ts';

/** Where each input's bins start in a histogram (in bins; a histogram holds g, h, count per bin). */
export interface HistLayout {
  offsets: Int32Array;
  bins: Int32Array;
  categorical: Uint8Array;
  /** Total bins over all inputs. */
  total: number;
}

export function histLayout(binCounts: number[], categorical: boolean[]): HistLayout {
  const offsets = new Int32Array(binCounts.length);
  let total = 0;
  binCounts.forEach((b, f) => {
    offsets[f] = total;
    total += b;
  });
  return { offsets, bins: Int32Array.from(binCounts), categorical: Uint8Array.from(categorical, Number), total };
}

export interface SplitParams {
  l2: number;
  minSamplesLeaf: number;
  /** A child's hessian sum must reach this (HistGradientBoosting's min_hessian_to_split). */
  minHessian: number;
  maxCatThreshold: number;
  minCategoryCount: number;
  catSmooth: number;
}

export interface Split {
  gain: number;
  feature: number;
  /** Ordered: the last bin going left. Categorical: unused (see `cats`). */
  threshold: number;
  defaultLeft: boolean;
  /** Categorical: the bins going left. */
  cats: number[] | null;
  left: { g: number; h: number; n: number };
}

/**
 * Add the rows order[start..end) to `hist` for inputs f0…f1−1, zeroing their part first. Each
 * input's sums run over the rows in the same order whichever inputs are built with it, so
 * building the inputs in parts (./engine.ts, one part per thread) gives the same bits.
 */
export function buildHistogram(
  hist: Float64Array,
  bins: Uint8Array,
  width: number,
  offsets: Int32Array,
  grad: Float32Array,
  hess: Float32Array,
  order: Int32Array,
  start: number,
  end: number,
  f0 = 0,
  f1 = width,
): void {
  hist.fill(0, offsets[f0] * 3, f1 < width ? offsets[f1] * 3 : hist.length);
  for (let i = start; i < end; i++) {
    const r = order[i];
    const g = grad[r];
    const h = hess[r];
    const base = r * width;
    for (let f = f0; f < f1; f++) {
      const o = (offsets[f] + bins[base + f]) * 3;
      hist[o] += g;
      hist[o + 1] += h;
      hist[o + 2] += 1;
    }
  }
}

/**
 * The root's histogram for inputs f0…f1−1: every row, in row order (the order buildHistogram
 * sees at the root, so the same sums), gradients and hessians only — the counts per bin are the
 * same every tree and copied from `counts` (rootCounts).
 */
export function buildRootHistogram(
  hist: Float64Array,
  bins: Uint8Array,
  width: number,
  offsets: Int32Array,
  grad: Float32Array,
  hess: Float32Array,
  counts: Float64Array,
  f0 = 0,
  f1 = width,
): void {
  const b0 = offsets[f0];
  const b1 = f1 < width ? offsets[f1] : counts.length;
  hist.fill(0, b0 * 3, b1 * 3);
  addRootRows(hist, bins, width, offsets, grad, hess, 0, grad.length, f0, f1);
  rootCountsInto(hist, counts, b0, b1);
}

/** Rows r0…r1−1 into the root's gradient and hessian sums for inputs f0…f1−1 (row order). */
export function addRootRows(
  hist: Float64Array,
  bins: Uint8Array,
  width: number,
  offsets: Int32Array,
  grad: Float32Array,
  hess: Float32Array,
  r0: number,
  r1: number,
  f0 = 0,
  f1 = width,
): void {
  for (let r = r0; r < r1; r++) {
    const g = grad[r];
    const h = hess[r];
    const base = r * width;
    for (let f = f0; f < f1; f++) {
      const o = (offsets[f] + bins[base + f]) * 3;
      hist[o] += g;
      hist[o + 1] += h;
    }
  }
}

/** The root's counts per bin b0…b1−1 (the same every tree) into `hist`. */
export function rootCountsInto(hist: Float64Array, counts: Float64Array, b0 = 0, b1 = counts.length): void {
  for (let b = b0; b < b1; b++) hist[b * 3 + 2] = counts[b];
}

/** Rows per bin over all rows (the root's counts, for buildRootHistogram). */
export function rootCounts(bins: Uint8Array, width: number, layout: HistLayout): Float64Array {
  const counts = new Float64Array(layout.total);
  for (let i = 0; i < bins.length; i++) counts[layout.offsets[i % width] + bins[i]]++;
  return counts;
}

/** parent − child, in place in `parent` (histogram subtraction: the larger child without a pass over its rows). */
export function subtractHistogram(parent: Float64Array, child: Float64Array, length: number): void {
  for (let i = 0; i < length; i++) parent[i] -= child[i];
}

export function findBestSplit(
  hist: Float64Array,
  layout: HistLayout,
  totals: { g: number; h: number; n: number },
  p: SplitParams,
): Split | null {
  const parent = score(totals.g, totals.h, p.l2);
  const ok = (h: number, n: number) => n >= p.minSamplesLeaf && h >= p.minHessian;
  let best: Split | null = null;
  for (let f = 0; f < layout.offsets.length; f++) {
    const split = layout.categorical[f]
      ? categoricalSplit(hist, layout.offsets[f], layout.bins[f], f, totals, p, parent, ok)
      : orderedSplit(hist, layout.offsets[f], layout.bins[f], f, totals, p, parent, ok);
    if (split && (!best || split.gain > best.gain)) best = split;
  }
  return best;
}

function orderedSplit(
  hist: Float64Array,
  o: number,
  B: number,
  f: number,
  totals: { g: number; h: number; n: number },
  p: SplitParams,
  parent: number,
  ok: (h: number, n: number) => boolean,
): Split | null {
  const { g: G, h: H, n: N } = totals;
  const gm = hist[o * 3];
  const hm = hist[o * 3 + 1];
  const nm = hist[o * 3 + 2];
  // The best so far as scalars (an object per improvement was most of a node's garbage).
  let bestGain = 1e-12;
  let bestT = -1;
  let bestLeft = false;
  let bg = 0;
  let bh = 0;
  let bn = 0;
  let gl = 0;
  let hl = 0;
  let nl = 0;
  for (let t = 1; t < B; t++) {
    const at = (o + t) * 3;
    if (hist[at + 2] === 0) continue;
    gl += hist[at];
    hl += hist[at + 1];
    nl += hist[at + 2];
    // Missing values right.
    const nr = N - nl;
    if (ok(hl, nl) && ok(H - hl, nr)) {
      const gain = score(gl, hl, p.l2) + score(G - gl, H - hl, p.l2) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        bestT = t;
        // No missing value in this node: missing values at serving follow the larger side.
        bestLeft = nm === 0 && nl >= nr;
        bg = gl;
        bh = hl;
        bn = nl;
      }
    }
    if (nm > 0 && ok(hl + hm, nl + nm) && ok(H - hl - hm, N - nl - nm)) {
      const gain = score(gl + gm, hl + hm, p.l2) + score(G - gl - gm, H - hl - hm, p.l2) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        bestT = t;
        bestLeft = true;
        bg = gl + gm;
        bh = hl + hm;
        bn = nl + nm;
      }
    }
  }
  if (bestT < 0) return null;
  return {
    gain: bestGain,
    feature: f,
    threshold: bestT,
    defaultLeft: bestLeft,
    cats: null,
    left: { g: bg, h: bh, n: bn },
  };
}
