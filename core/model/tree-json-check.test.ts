import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../platform/random.ts';
import { quickTreeEnsemble } from './tree-json-check.ts';
import { treeEnsembleSchema, treeModelFrom } from './trees.ts';

function valid(): Record<string, unknown> {
  return {
    format: 1,
    objective: 'binary',
    classes: 1,
    base_score: [-1.2],
    inputs: [
      { name: 'distance', kind: 'ordered', from: 'numeric', edges: [10, 200.5, null] },
      { name: 'origin', kind: 'categorical', from: 'index', category_bins: [0, 1, 1, 2] },
      { name: 'route', kind: 'ordered', from: 'target_stat', edges: [0.1], stats: [0.2, 0.3] },
    ],
    trees: [
      {
        feature: [0, 1, -1, -1, -1],
        threshold: [3, 0, 0, 0, 0],
        default_left: [1, 0, 0, 0, 0],
        left: [1, 3, -1, -1, -1],
        right: [2, 4, -1, -1, -1],
        value: [0, 0, 0.5, -0.25, null],
        cat_sets: [[1, 2]],
      },
      { feature: [-1], threshold: [0], default_left: [0], left: [-1], right: [-1], value: [0.1], cat_sets: [] },
    ],
  };
}

/** Every place in a JSON value, as a path of keys. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v && typeof v === 'object') return [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return [at];
}

const REPLACEMENTS: unknown[] = [null, undefined, 1.5, -3, 2 ** 60, '1', true, [], {}, [1], NaN, 'ordered', 'binary'];

function mutate(doc: Record<string, unknown>, random: () => number): Record<string, unknown> {
  const copy = structuredClone(doc);
  const all = paths(copy).filter((p) => p.length > 0);
  const path = all[Math.floor(random() * all.length)];
  const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as never, copy as never);
  const key = path.at(-1)!;
  const pick = random();
  if (pick < 0.15 && !Array.isArray(parent)) delete parent[key];
  else if (pick < 0.25 && !Array.isArray(parent)) parent[`extra_${String(key)}`] = 1;
  else parent[key] = REPLACEMENTS[Math.floor(random() * REPLACEMENTS.length)];
  return copy;
}

test('a valid ensemble reads as the schema reads it: same keys, nulls as NaN, extra keys dropped', () => {
  const doc = valid();
  (doc.trees as Record<string, unknown>[])[0].note = 'not in the schema';
  const quick = quickTreeEnsemble(doc);
  assert.ok(quick);
  assert.deepEqual(quick, treeEnsembleSchema.parse(doc));
  assert.ok(Number.isNaN(quick.trees[0].value[4]));
  assert.deepEqual(Object.keys(quick.inputs[0]), ['name', 'kind', 'from', 'edges']);
});

test('on thousands of damaged files it accepts only what the schema accepts, and gives what the schema gives', () => {
  const random = seededRandom(3);
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    let doc = mutate(valid(), random);
    if (random() < 0.3) doc = mutate(doc, random);
    const quick = quickTreeEnsemble(doc);
    const schema = treeEnsembleSchema.safeParse(doc);
    if (quick === null) {
      refused++;
      continue;
    }
    assert.ok(schema.success, `the quick check accepted what the schema refuses: ${JSON.stringify(doc)}`);
    assert.deepEqual(quick, schema.data);
  }
  assert.ok(refused > 1000, `only ${refused} of the damaged files were left to the schema`);
});

test('a damaged file is still refused with the schema message, naming the file', () => {
  const doc = valid();
  (doc.trees as Record<string, unknown>[])[1].left = [0.5];
  assert.throws(
    () => treeModelFrom(doc, 'bundle/trees.json'),
    /^Error: bundle\/trees\.json: trees\.1\.left\.0: .*re-run training/,
  );
});

test('a child pointing back up the tree is refused at load, not looped on by the first request', () => {
  const doc = valid();
  const tree = (doc.trees as { right: number[] }[])[0];
  tree.right[1] = 0; // node 1's right child would be the root
  assert.throws(() => treeModelFrom(doc, 'bundle/trees.json'), /tree 0 node 1 points outside the tree/);
  tree.right[1] = 4;
  assert.doesNotThrow(() => treeModelFrom(doc, 'bundle/trees.json'));
});
