/**
 * One compiled tree's value for a binned row: training's validation scores use it, and the
 * packed and four-row layouts serving and evaluation use must agree with it bit for bit
 * (./trees.ts compiles the trees). Its own module, free of imports, so
 * training's worker threads (training/gbdt/engine-worker.ts) load it without the rest.
 */

/** A tree compiled for evaluation: typed arrays, categorical sets as 256-bit masks. */
export interface CompiledTree {
  feature: Int32Array;
  threshold: Int32Array;
  defaultLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  /** Per node: 8 words of the left-going bin mask (categorical splits), else unused. */
  masks: Uint32Array;
  categorical: Uint8Array;
}

/** The leaf value of one tree for the row whose bins start at `at` in `bins`. */
export function treeValue(t: CompiledTree, bins: Uint8Array, at: number): number {
  let node = 0;
  for (;;) {
    const f = t.feature[node];
    if (f < 0) return t.value[node];
    const b = bins[at + f];
    let goLeft: boolean;
    if (t.categorical[node]) goLeft = (t.masks[node * 8 + (b >>> 5)] & (1 << (b & 31))) !== 0;
    else goLeft = b === 0 ? t.defaultLeft[node] === 1 : b <= t.threshold[node];
    node = goLeft ? t.left[node] : t.right[node];
  }
}
