/**
 * Random tree ensembles in training's layout and binned rows for them: what the tree walks
 * (core/model/tree-pack.ts, core/model/tree-wasm.ts) are checked on against `treeValue`.
 */
import type { TreeJson } from '../../../core/model/trees.ts';
import type { TreeInput } from '../../../core/model/tree-inputs.ts';

export const INPUTS: TreeInput[] = [
  { name: 'a', kind: 'ordered', from: 'numeric', edges: [1, 2, 3, 4, 5, 6] },
  { name: 'b', kind: 'categorical', from: 'index' },
  { name: 'c', kind: 'ordered', from: 'numeric', edges: [10, 20] },
];

/** A random tree in training's layout: node slots in creation order, some left unused. */
export function randomTree(rnd: () => number, leaves: number): TreeJson {
  const t: TreeJson = {
    feature: [-1],
    threshold: [0],
    default_left: [0],
    left: [0],
    right: [0],
    value: [0],
    cat_sets: [],
  };
  const open = [0];
  const add = () => {
    t.feature.push(-1);
    t.threshold.push(0);
    t.default_left.push(0);
    t.left.push(0);
    t.right.push(0);
    t.value.push(Math.round((rnd() - 0.5) * 1e6) / 1e5);
    return t.feature.length - 1;
  };
  for (let n = 1; n < leaves; n++) {
    const node = open.splice(Math.floor(rnd() * open.length), 1)[0];
    const f = Math.floor(rnd() * INPUTS.length);
    t.feature[node] = f;
    if (INPUTS[f].kind === 'categorical') {
      t.threshold[node] = t.cat_sets.length;
      t.cat_sets.push([0, 3, 7, 40, 200].filter(() => rnd() < 0.5));
    } else if (rnd() < 0.1)
      t.threshold[node] = [254, 255, 256, 2 ** 31 - 1][Math.floor(rnd() * 4)]; // every bin goes left
    else t.threshold[node] = Math.floor(rnd() * 8) - 1; // −1 and 0 too: only missing values, or none, go left
    t.default_left[node] = rnd() < 0.5 ? 1 : 0;
    if (rnd() < 0.2) add(); // an unused slot, as training leaves behind
    t.left[node] = add();
    t.right[node] = add();
    open.push(t.left[node], t.right[node]);
  }
  return t;
}

/**
 * Rows of bins for INPUTS: the categorical input's bins from the sets' members and one outside
 * them, the ordered ones mostly low, sometimes the top bins (against thresholds near and past 255).
 */
export function randomBins(rnd: () => number, rows: number): Uint8Array {
  const bins = new Uint8Array(rows * 3);
  for (let i = 0; i < bins.length; i++)
    bins[i] =
      i % 3 === 1
        ? [0, 3, 7, 40, 200, 9][Math.floor(rnd() * 6)]
        : rnd() < 0.05
          ? 254 + Math.floor(rnd() * 2)
          : Math.floor(rnd() * 8);
  return bins;
}
