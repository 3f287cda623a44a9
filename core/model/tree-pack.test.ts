import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTree, rawScores, treeModel, type TreeEnsembleJson, type TreeJson } from './trees.ts';
import { treeValue } from './tree-value.ts';
import { packEnsemble, packedTreeValue } from './tree-pack.ts';
import { INPUTS, randomBins, randomTree } from '../../harness/testing/core/random-trees.ts';

test('packed trees give exactly the values of the compiled trees, for every row and tree', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const trees = Array.from({ length: 40 }, (_, i) => randomTree(rnd, 1 + (i % 17) * 3));
  const compiled = trees.map((t) => compileTree(t, INPUTS));
  const packed = packEnsemble(compiled);
  const rows = 500;
  const bins = randomBins(rnd, rows);
  let distinct = new Set<number>();
  for (let t = 0; t < compiled.length; t++)
    for (let r = 0; r < rows; r++) {
      const v = treeValue(compiled[t], bins, r * 3);
      assert.equal(packedTreeValue(packed, t, bins, r * 3), v, `tree ${t} row ${r}`);
      distinct.add(v);
    }
  assert.ok(distinct.size > 100, 'the rows reach many different leaves');
  // Only reachable nodes are packed: the unused slots are left out.
  const used = trees.reduce((n, t) => n + t.feature.length, 0);
  let reachable = 0;
  let words = 0;
  for (const t of compiled)
    for (const stack = [0]; stack.length;) {
      const i = stack.pop()!;
      reachable++;
      words += t.feature[i] < 0 ? 4 : t.categorical[i] ? 10 : 2;
      if (t.feature[i] >= 0) stack.push(t.left[i], t.right[i]);
    }
  assert.ok(reachable < used, `${reachable} reachable of ${used} slots`);
  assert.equal(packed.code.length, 2 + words + 8, 'the park record, one record per reachable node, the tail');

  // rawScores (serving, evaluation) sums them in the compiled trees' order: bit-identical.
  const json: TreeEnsembleJson = {
    format: 1,
    objective: 'binary',
    classes: 1,
    base_score: [0.25],
    inputs: INPUTS,
    trees,
  };
  const model = treeModel(json);
  const scores = rawScores(model, bins, rows);
  for (let r = 0; r < rows; r++) {
    let s = 0.25;
    for (const c of compiled) s += treeValue(c, bins, r * 3);
    assert.equal(scores[r], s);
  }
  // A request's rows score as they do among many: one to three rows (lanes share a row's trees),
  // four or more (a lane per row, a short last group), sixteen or more (tree by tree).
  for (let r = 0; r + 17 <= rows; r += 17)
    for (const n of [1, 2, 3, 4, 5, 7, 15, 16, 17]) {
      const few = rawScores(model, bins.subarray(r * 3, (r + n) * 3), n);
      for (let j = 0; j < n; j++) assert.equal(few[j], scores[r + j], `row ${r + j} scored among ${n}`);
    }
  distinct = new Set(scores);
  assert.ok(distinct.size > 100);
  // The first trees only (training's early iterations), through every walk: lanes and tree by tree.
  for (const n of [1, 3, 4, 9, rows])
    for (const count of [0, 1, 5, 38])
      assert.deepEqual(
        rawScores(model, bins, n, count),
        rawScores(treeModel({ ...json, trees: trees.slice(0, count) }), bins, n),
        `${count} trees, ${n} rows`,
      );
  // Multi-class: tree t adds to class t mod k, each class's trees in order.
  const k = 3;
  const multi = rawScores(
    treeModel({ ...json, objective: 'multiclass', classes: k, base_score: [0.5, -1, 0] }),
    bins,
    rows,
  );
  for (const n of [1, 6, 40]) {
    const part = rawScores(
      treeModel({ ...json, objective: 'multiclass', classes: k, base_score: [0.5, -1, 0] }),
      bins,
      n,
    );
    for (let r = 0; r < n; r++) {
      const want = [0.5, -1, 0];
      compiled.forEach((c, t) => (want[t % k] += treeValue(c, bins, r * 3)));
      assert.deepEqual(Array.from(part.subarray(r * k, r * k + k)), want, `row ${r} of ${n}`);
      assert.deepEqual(Array.from(multi.subarray(r * k, r * k + k)), want);
    }
  }
});

test("a split's near child is the next record: a categorical split's right child, an ordered split's left", () => {
  const tree = (categorical: boolean): TreeJson => ({
    feature: [categorical ? 1 : 0, -1, -1],
    threshold: [categorical ? 0 : 3, 0, 0],
    default_left: [0, 0, 0],
    left: [1, 0, 0],
    right: [2, 0, 0],
    value: [0, -1.5, 2.5],
    cat_sets: categorical ? [[3, 7]] : [],
  });
  const packed = packEnsemble([compileTree(tree(true), INPUTS), compileTree(tree(false), INPUTS)]);
  // The leaf after each root record (10 words for a categorical split, 2 for an ordered one).
  const nextLeaf = (t: number, words: number) => packed.f64[(packed.roots[t] + words + 2) >> 1];
  assert.equal(nextLeaf(0, 10), 2.5, 'categorical: the right leaf follows');
  assert.equal(nextLeaf(1, 2), -1.5, 'ordered: the left leaf follows');
  // Either way each row still reaches its own leaf.
  const bins = Uint8Array.from([0, 3, 0, 0, 5, 0, 2, 1, 0]);
  assert.deepEqual(
    [0, 1, 2].map((r) => packedTreeValue(packed, 0, bins, r * 3)),
    [-1.5, 2.5, 2.5],
  );
  assert.deepEqual(
    [0, 1, 2].map((r) => packedTreeValue(packed, 1, bins, r * 3)),
    [2.5, 2.5, -1.5],
  );
});
