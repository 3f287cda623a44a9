/**
 * The best categorical split of a node (./split.ts): the categories with at least
 * `minCategoryCount` rows, sorted by G/(H + catSmooth), and every prefix of that order from either
 * end (at most `maxCatThreshold` categories) as the left set; rarer and unseen categories go right.
 */
import type { Split, SplitParams } from './split.ts';

/** A side's share of the gain: G²/(H+λ). */
export const score = (g: number, h: number, l2: number) => (g * g) / (h + l2);

/** Scratch of categoricalSplit (≤ 256 bins): reused, since it runs for every child and input. */
const catIndex = new Int32Array(256);
const catSpare = new Int32Array(256);
const catRatio = new Float64Array(256);

/**
 * Sort idx[0..n) by (ratio, bin) ascending: a merge sort on typed arrays, the same total order
 * as Array#sort with a comparator (profiled: that sort and its comparator calls were a tenth of
 * a quick-default fit).
 */
export function sortByRatio(idx: Int32Array, n: number, ratio: Float64Array, spare: Int32Array): Int32Array {
  let src = idx;
  let dst = spare;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let o = lo;
      while (i < mid && j < hi) {
        const a = src[i];
        const b = src[j];
        // Stable: a tie in ratio keeps the left run's (smaller) bin first, as `a − b` would.
        if (ratio[b] < ratio[a]) {
          dst[o++] = b;
          j++;
        } else {
          dst[o++] = a;
          i++;
        }
      }
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}

export function categoricalSplit(
  hist: Float64Array,
  o: number,
  B: number,
  f: number,
  totals: { g: number; h: number; n: number },
  p: SplitParams,
  parent: number,
  ok: (h: number, n: number) => boolean,
): Split | null {
  let count = 0;
  for (let b = 0; b < B; b++)
    if (hist[(o + b) * 3 + 2] >= p.minCategoryCount) {
      catIndex[count++] = b;
      // The ratios once per bin, not twice per comparison. −0 and +0 compare equal, as they did.
      catRatio[b] = hist[(o + b) * 3] / (hist[(o + b) * 3 + 1] + p.catSmooth);
    }
  if (count === 0) return null;
  // Bins enter in increasing order, so a stable sort by ratio alone breaks ties by bin.
  const eligible = sortByRatio(catIndex, count, catRatio, catSpare);
  const { g: G, h: H, n: N } = totals;
  const most = Math.min(p.maxCatThreshold, count);
  let bestGain = 1e-12;
  let bestJ = -1;
  let bestFromTop = false;
  let bg = 0;
  let bh = 0;
  let bn = 0;
  // Prefixes of the sorted categories from the bottom, then from the top.
  for (let side = 0; side < 2; side++) {
    const fromTop = side === 1;
    let gl = 0;
    let hl = 0;
    let nl = 0;
    for (let j = 0; j < most; j++) {
      const at = (o + eligible[fromTop ? count - 1 - j : j]) * 3;
      gl += hist[at];
      hl += hist[at + 1];
      nl += hist[at + 2];
      if (!ok(hl, nl) || !ok(H - hl, N - nl)) continue;
      const gain = score(gl, hl, p.l2) + score(G - gl, H - hl, p.l2) - parent;
      if (gain <= bestGain) continue;
      bestGain = gain;
      bestJ = j;
      bestFromTop = fromTop;
      bg = gl;
      bh = hl;
      bn = nl;
    }
  }
  if (bestJ < 0) return null;
  const cats = bestFromTop
    ? Array.from(eligible.subarray(count - 1 - bestJ, count)).reverse()
    : Array.from(eligible.subarray(0, bestJ + 1));
  return { gain: bestGain, feature: f, threshold: -1, defaultLeft: false, cats, left: { g: bg, h: bh, n: bn } };
}
