import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../platform/random.ts';
import { addTreeValues, laneTree } from './tree-lanes.ts';
import { treeValue } from './tree-value.ts';
import { compileTree, rawScores, treeModel, type TreeEnsembleJson, type TreeJson } from './trees.ts';
import type { TreeInput } from './tree-inputs.ts';

const inputs: TreeInput[] = [
  { name: 'distance', kind: 'ordered', from: 'numeric', edges: [] },
  { name: 'origin', kind: 'categorical', from: 'index' },
  { name: 'hour', kind: 'ordered', from: 'index', edges: [] },
];

/** A random tree of `splits` splits (leaf-wise, so unbalanced), every kind of split and edge case. */
function randomTree(random: () => number, splits: number): TreeJson {
  const t: TreeJson = {
    feature: [-1],
    threshold: [0],
    default_left: [0],
    left: [-1],
    right: [-1],
    value: [0],
    cat_sets: [],
  };
  for (let s = 0; s < splits; s++) {
    const leaves = t.feature.flatMap((f, i) => (f < 0 ? [i] : []));
    const at = leaves[Math.floor(random() * leaves.length)];
    const feature = Math.floor(random() * inputs.length);
    t.feature[at] = feature;
    if (inputs[feature].kind === 'categorical') {
      t.threshold[at] = t.cat_sets.length;
      t.cat_sets.push([
        ...new Set(Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256))),
      ]);
    } else {
      // 0 (only missing may go left), inside the range, and 255 or more (every present bin goes left).
      const pick = random();
      t.threshold[at] = pick < 0.1 ? 0 : pick < 0.2 ? 255 + Math.floor(random() * 3) : Math.floor(random() * 255);
    }
    t.default_left[at] = random() < 0.5 ? 1 : 0;
    t.left[at] = t.feature.length;
    t.right[at] = t.feature.length + 1;
    for (let c = 0; c < 2; c++) {
      t.feature.push(-1);
      t.threshold.push(0);
      t.default_left.push(0);
      t.left.push(-1);
      t.right.push(-1);
      t.value.push(random() * 2 - 1);
    }
  }
  return t;
}

function randomBins(random: () => number, rows: number): Uint8Array {
  // Bin 0 (missing) often, so default directions are exercised.
  return Uint8Array.from({ length: rows * inputs.length }, () => (random() < 0.15 ? 0 : Math.floor(random() * 256)));
}

test('four rows at a time reach the same leaf as treeValue, for every kind of split and any row count', () => {
  const random = seededRandom(7);
  for (let trial = 0; trial < 40; trial++) {
    const compiled = compileTree(randomTree(random, trial % 5 === 0 ? 0 : 1 + Math.floor(random() * 60)), inputs);
    const lane = laneTree(compiled);
    for (const rows of [0, 1, 3, 4, 5, 7, 8, 203]) {
      const bins = randomBins(random, rows);
      const out = new Float64Array(rows * 2).fill(0.25);
      addTreeValues(lane, bins, rows, inputs.length, out, 2, 1);
      for (let r = 0; r < rows; r++) {
        assert.equal(out[r * 2], 0.25, 'the other class is left alone');
        assert.equal(out[r * 2 + 1], 0.25 + treeValue(compiled, bins, r * inputs.length), `trial ${trial} row ${r}`);
      }
    }
  }
});

test('rawScores gives bit for bit the row-at-a-time sums, a tree at a time in tree order, for every class', () => {
  const random = seededRandom(11);
  for (const classes of [1, 3]) {
    const json: TreeEnsembleJson = {
      format: 1,
      objective: classes === 1 ? 'binary' : 'multiclass',
      classes,
      base_score: Array.from({ length: classes }, () => random()),
      inputs,
      trees: Array.from({ length: 30 }, () => randomTree(random, Math.floor(random() * 30))),
    };
    const model = treeModel(json);
    for (const rows of [1, 2, 4, 9, 100]) {
      const bins = randomBins(random, rows);
      for (const treeCount of [json.trees.length, 7]) {
        const got = rawScores(model, bins, rows, treeCount);
        const want = new Float64Array(rows * classes);
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < classes; c++) want[r * classes + c] = json.base_score[c];
          for (let t = 0; t < treeCount; t++)
            want[r * classes + (t % classes)] += treeValue(model.compiled[t], bins, r * inputs.length);
        }
        assert.deepEqual(got, want, `${classes} class(es), ${rows} rows, ${treeCount} trees`);
      }
    }
  }
});
