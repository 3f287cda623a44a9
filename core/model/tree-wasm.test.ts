import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileTree,
  prepareTrees,
  rawScores,
  treeModel,
  treeWalkOf,
  type TreeEnsembleJson,
  type TreeJson,
  type TreeModel,
} from './trees.ts';
import { treeValue } from './tree-value.ts';
import { compileEnsemble, compileEnsembleAsync } from './tree-wasm.ts';
import type { TreeInput } from './tree-inputs.ts';
import { prepareBundleModel, scoringOf } from './bundle.ts';
import { blendModel } from './blend.ts';
import { INPUTS, randomBins, randomTree } from '../../harness/testing/core/random-trees.ts';

const lcg = (seed: number) => () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

/** Σ of treeValue in tree order from the base scores: the sum every walk must equal bit for bit. */
function expected(json: TreeEnsembleJson, bins: Uint8Array, rows: number): Float64Array {
  const k = json.classes;
  const width = json.inputs.length;
  const compiled = json.trees.map((t) => compileTree(t, json.inputs));
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < k; c++) out[r * k + c] = json.base_score[c];
    compiled.forEach((t, i) => (out[r * k + (i % k)] += treeValue(t, bins, r * width)));
  }
  return out;
}

test('the WebAssembly module gives exactly the compiled trees’ sums, one class and three, in slices of rows', async () => {
  const rnd = lcg(5);
  const trees = Array.from({ length: 60 }, (_, i) => randomTree(rnd, 1 + (i % 23) * 3));
  // More rows than one slice of the module's memory holds (47,662 of these rows with one output,
  // 19,418 with three): the later slices must land right.
  const rows = 50_000;
  const bins = randomBins(rnd, rows);
  for (const [classes, base] of [
    [1, [0.25]],
    [3, [0.5, -1, 0]],
  ] as const) {
    const json: TreeEnsembleJson = {
      format: 1,
      objective: classes === 1 ? 'binary' : 'multiclass',
      classes,
      base_score: [...base],
      inputs: INPUTS,
      trees,
    };
    const want = expected(json, bins, rows);
    assert.ok(new Set(want).size > 200, 'the rows reach many different sums');
    const compiled = json.trees.map((t) => compileTree(t, INPUTS));
    for (const w of [compileEnsemble(compiled, classes, 3), await compileEnsembleAsync(compiled, classes, 3)]) {
      assert.ok(w, 'WebAssembly is available in Node');
      const out = new Float64Array(rows * classes);
      for (let r = 0; r < rows; r++) for (let c = 0; c < classes; c++) out[r * classes + c] = base[c];
      w.addScores(bins, rows, out);
      assert.deepEqual(out, want, `${classes} class(es)`);
      // A few rows at a time, as requests come: the same values.
      for (const n of [1, 2, 17]) {
        const few = new Float64Array(n * classes).fill(0);
        for (let r = 0; r < n; r++) for (let c = 0; c < classes; c++) few[r * classes + c] = base[c];
        w.addScores(bins.subarray(300 * 3), n, few);
        assert.deepEqual(few, want.subarray(300 * classes, (300 + n) * classes), `${n} rows`);
      }
    }
    // Two rows first (exactly sized arrays), then every row: the memory grows under the views
    // the first call made.
    const fresh = compileEnsemble(compiled, classes, 3)!;
    const two = Float64Array.from({ length: 2 * classes }, (_, i) => base[i % classes]);
    fresh.addScores(bins.slice(0, 2 * 3), 2, two);
    assert.deepEqual(two, want.subarray(0, 2 * classes), `${classes} class(es), two rows first`);
    const all = Float64Array.from({ length: rows * classes }, (_, i) => base[i % classes]);
    fresh.addScores(bins, rows, all);
    assert.deepEqual(all, want, `${classes} class(es), every row after two`);
  }
});

test('hundreds of distinct sets on two categorical inputs, every byte a bin: the module agrees with the reference', () => {
  // More sets per input than one 32-bit word of a table row holds (bits 31 of a word and the words
  // after the first are used), trees on both inputs in one function and across functions, and bins
  // 0–255 including values no set names.
  const rnd = lcg(17);
  const inputs: TreeInput[] = [
    { name: 'o', kind: 'categorical', from: 'index' },
    { name: 'n', kind: 'ordered', from: 'numeric', edges: [1, 2, 3] },
    { name: 'd', kind: 'categorical', from: 'index' },
  ];
  const trees: TreeJson[] = Array.from({ length: 90 }, () => {
    const t: TreeJson = { feature: [], threshold: [], default_left: [], left: [], right: [], value: [], cat_sets: [] };
    // A full tree of depth 5: 31 splits, 32 leaves.
    for (let i = 0; i < 63; i++) {
      const split = i < 31;
      const f = split ? [0, 2, 0, 1][Math.floor(rnd() * 4)] : -1;
      t.feature.push(f);
      t.left.push(split ? 2 * i + 1 : 0);
      t.right.push(split ? 2 * i + 2 : 0);
      t.default_left.push(rnd() < 0.5 ? 1 : 0);
      t.value.push(split ? 0 : Math.round((rnd() - 0.5) * 1e6) / 1e5);
      if (f === 0 || f === 2) {
        t.threshold.push(t.cat_sets.length);
        t.cat_sets.push(Array.from({ length: 256 }, (_, b) => b).filter(() => rnd() < 0.3));
      } else t.threshold.push(Math.floor(rnd() * 5));
    }
    return t;
  });
  const json: TreeEnsembleJson = { format: 1, objective: 'binary', classes: 1, base_score: [0.5], inputs, trees };
  const rows = 3000;
  const bins = Uint8Array.from({ length: rows * 3 }, (_, i) =>
    i % 3 === 1 ? Math.floor(rnd() * 6) : Math.floor(rnd() * 256),
  );
  const want = expected(json, bins, rows);
  const compiled = trees.map((t) => compileTree(t, inputs));
  const w = compileEnsemble(compiled, 1, 3)!;
  const out = new Float64Array(rows).fill(0.5);
  w.addScores(bins, rows, out);
  assert.deepEqual(out, want);
  assert.ok(new Set(want).size > 300, 'the rows take many different paths');
});

test('a deep tree, a split on the 300th input, a lone leaf and no trees at all score as the reference does', async () => {
  // A chain of 400 splits (the nesting of a tree grown one leaf at a time) on input 299.
  const depth = 400;
  const inputs: TreeInput[] = Array.from({ length: 300 }, (_, i) => ({
    name: `x${i}`,
    kind: 'ordered',
    from: 'numeric',
    edges: [1],
  }));
  const chain = {
    feature: [] as number[],
    threshold: [] as number[],
    default_left: [] as number[],
    left: [] as number[],
    right: [] as number[],
    value: [] as number[],
    cat_sets: [],
  };
  for (let d = 0; d < depth; d++) {
    // node 2d splits: left to a leaf (2d + 1), right on to the next split (2d + 2)
    chain.feature.push(299, -1);
    chain.threshold.push(d % 250, 0);
    chain.default_left.push(d % 2, 0);
    chain.left.push(2 * d + 1, 0);
    chain.right.push(2 * d + 2, 0);
    chain.value.push(0, d + 0.5);
  }
  chain.feature.push(-1);
  chain.threshold.push(0);
  chain.default_left.push(0);
  chain.left.push(0);
  chain.right.push(0);
  chain.value.push(-7);
  const leaf = { ...chain, feature: [-1], threshold: [0], default_left: [0], left: [0], right: [0], value: [1.25] };
  const json: TreeEnsembleJson = {
    format: 1,
    objective: 'regression',
    classes: 1,
    base_score: [3],
    inputs,
    trees: [chain, leaf],
  };
  const rows = 256;
  const bins = new Uint8Array(rows * 300);
  for (let r = 0; r < rows; r++) bins[r * 300 + 299] = r; // every bin, missing (0) included
  const model = treeModel(json);
  await prepareTrees(model);
  assert.equal(treeWalkOf(model), 'wasm');
  const want = expected(json, bins, rows);
  assert.ok(new Set(want).size > 200);
  assert.deepEqual(rawScores(model, bins, rows), want);
  // No inputs at all (a hand-made trees.json: training always has some): every row still scores.
  const noInputs = treeModel({ ...json, inputs: [], trees: [leaf] });
  await prepareTrees(noInputs);
  assert.equal(treeWalkOf(noInputs), 'packed');
  assert.deepEqual(Array.from(rawScores(noInputs, new Uint8Array(0), 4)), [4.25, 4.25, 4.25, 4.25]);
  // A tree past V8's function size (7,654,321 bytes): the packed walk serves, and the server's log says why.
  const wide: TreeJson = { feature: [], threshold: [], default_left: [], left: [], right: [], value: [], cat_sets: [] };
  const splits = 450_000;
  for (let i = 0; i < splits; i++) {
    wide.feature.push(299);
    wide.threshold.push(i % 200);
    wide.default_left.push(0);
    wide.left.push(splits + i);
    wide.right.push(i + 1 < splits ? i + 1 : 2 * splits);
    wide.value.push(0);
  }
  for (let i = 0; i <= splits; i++) {
    wide.feature.push(-1);
    wide.threshold.push(0);
    wide.default_left.push(0);
    wide.left.push(0);
    wide.right.push(0);
    wide.value.push(i);
  }
  const huge = treeModel({ ...json, trees: [wide] });
  await prepareTrees(huge);
  assert.equal(treeWalkOf(huge), 'packed');
  assert.match(scoringOf(huge), /^trees \(packed: WebAssembly failed: .*function size/);
  assert.deepEqual(rawScores(huge, bins, rows), expected({ ...json, trees: [wide] }, bins, rows));
  const none = treeModel({ ...json, trees: [] });
  await prepareTrees(none);
  assert.deepEqual(Array.from(rawScores(none, bins, 2)), [3, 3], 'no trees: the base score');
});

test('a loaded model scores through the module from its first row; training’s models once they have scored 50,000 rows', async () => {
  const rnd = lcg(9);
  const json: TreeEnsembleJson = {
    format: 1,
    objective: 'binary',
    classes: 1,
    base_score: [-0.5],
    inputs: INPUTS,
    trees: Array.from({ length: 30 }, (_, i) => randomTree(rnd, 2 + (i % 9) * 4)),
  };
  const bins = randomBins(rnd, 30_000);
  const want = expected(json, bins, 30_000);

  const served = treeModel(json);
  await prepareTrees(served);
  assert.equal(treeWalkOf(served), 'wasm', 'prepared: the module');
  assert.deepEqual(rawScores(served, bins.subarray(0, 12), 4), want.subarray(0, 4));
  // The first trees only (training's iteration curves) take the packed walk, and agree with a model of those trees.
  assert.deepEqual(
    rawScores(served, bins, 50, 7),
    rawScores(treeModel({ ...json, trees: json.trees.slice(0, 7) }), bins, 50),
  );

  const trained = treeModel(json);
  assert.deepEqual(rawScores(trained, bins, 30_000), want);
  assert.equal(treeWalkOf(trained), 'packed', '30,000 rows scored: not yet worth a compile');
  // What a server logs when it swaps a model in.
  assert.equal(
    scoringOf(
      blendModel([
        { model: served, weight: 0.5 },
        { model: trained, weight: 0.5 },
      ] as never),
    ),
    'trees (wasm) + trees (packed)',
  );
  // What a server does to a loaded bundle: every tree member compiled.
  const blend = blendModel<TreeModel>([
    { model: treeModel(json), weight: 0.5 },
    { model: treeModel(json), weight: 0.5 },
  ] as never);
  await prepareBundleModel(blend);
  assert.equal(scoringOf(blend), 'trees (wasm) + trees (wasm)');
  assert.deepEqual(rawScores(trained, bins, 30_000), want);
  assert.equal(treeWalkOf(trained), 'wasm', '60,000 rows scored: compiled');
  assert.deepEqual(rawScores(trained, bins, 30_000), want);
});
