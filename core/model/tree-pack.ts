/**
 * A tree ensemble packed for serving: every node of every tree in one Int32Array of 4 words, in
 * depth-first order so a node's left child is the next node. `CompiledTree` (./tree-value.ts)
 * keeps each field in its own array (training builds those in shared memory); walking it touches
 * six arrays per node, and a 600-tree ensemble is megabytes, so a served row paid a cache miss
 * per array per node (the forward pass was a third of the API's CPU per request). Here a step reads
 * one 16-byte record, and the left path runs through consecutive memory. Scores are added tree by
 * tree in the compiled trees' order, as `treeValue` sums them, so the outputs are bit-identical.
 *
 * Word 0: a leaf is −1 − (index of its value); a split is its input index | CATEGORICAL, or for an
 * ordered split its input index | SKIP_MISSING when missing values (bin 0) go right. Word 1: the
 * offset of its 8-word bin mask in `masks` (categorical), or the ordered split's `limit`: bin b goes
 * left when (b − skip) as unsigned < limit, which is b ≤ threshold, with bin 0 left or right as
 * trained, in one comparison without a branch on missing values. Word 2: the right child's index.
 * Word 3 is padding, so a record is a power of two and never straddles two cache lines.
 */
import type { CompiledTree } from './tree-value.ts';

const CATEGORICAL = 1 << 30;
const SKIP_SHIFT = 16;
const INPUT_MASK = (1 << SKIP_SHIFT) - 1;
const WORDS = 4;

export interface PackedEnsemble {
  nodes: Int32Array;
  values: Float64Array;
  masks: Uint32Array;
  /** Node index of each tree's root. */
  roots: Int32Array;
}

/** Each node reachable from the root, depth-first, left child first (training may leave unused slots). */
function preorder(t: CompiledTree): number[] {
  const order: number[] = [];
  const stack = [0];
  while (stack.length) {
    const i = stack.pop()!;
    order.push(i);
    if (t.feature[i] >= 0) stack.push(t.right[i], t.left[i]);
  }
  return order;
}

export function packEnsemble(trees: readonly CompiledTree[]): PackedEnsemble {
  const orders = trees.map(preorder);
  let nodeCount = 0;
  let leafCount = 0;
  let catCount = 0;
  trees.forEach((t, ti) => {
    for (const i of orders[ti]) {
      nodeCount++;
      if (t.feature[i] < 0) leafCount++;
      else if (t.categorical[i]) catCount++;
    }
  });
  const nodes = new Int32Array(nodeCount * WORDS);
  const values = new Float64Array(leafCount);
  const masks = new Uint32Array(catCount * 8);
  const roots = new Int32Array(trees.length);
  let at = 0;
  let leaf = 0;
  let mask = 0;
  trees.forEach((t, ti) => {
    roots[ti] = at;
    const position = new Map<number, number>();
    for (const i of orders[ti]) position.set(i, at++);
    for (const i of orders[ti]) {
      const me = position.get(i)!;
      const f = t.feature[i];
      if (f < 0) {
        values[leaf] = t.value[i];
        nodes[me * WORDS] = -1 - leaf++;
        continue;
      }
      if (f > INPUT_MASK) throw new Error(`tree input ${f} exceeds the ${INPUT_MASK + 1} inputs a packed tree indexes`);
      if (position.get(t.left[i]) !== me + 1)
        throw new Error('packEnsemble: a left child is not laid out next to its parent');
      if (t.categorical[i]) {
        nodes[me * WORDS] = f | CATEGORICAL;
        nodes[me * WORDS + 1] = mask;
        masks.set(t.masks.subarray(i * 8, i * 8 + 8), mask);
        mask += 8;
      } else {
        const skip = t.defaultLeft[i] === 1 ? 0 : 1;
        nodes[me * WORDS] = f | (skip << SKIP_SHIFT);
        // Bins are bytes: a threshold past 255 sends every bin left (and must not overflow int32).
        nodes[me * WORDS + 1] = Math.min(255, Math.max(0, t.threshold[i])) + 1 - skip;
      }
      nodes[me * WORDS + 2] = position.get(t.right[i])!;
    }
  });
  return { nodes, values, masks, roots };
}

/** The leaf value of tree `tree` for the row whose bins start at `at`. */
export function packedTreeValue(p: PackedEnsemble, tree: number, bins: Uint8Array, at: number): number {
  const nodes = p.nodes;
  let n = p.roots[tree];
  for (;;) {
    const i = n * WORDS;
    const w = nodes[i];
    if (w < 0) return p.values[-1 - w];
    const b = bins[at + (w & INPUT_MASK)];
    const left =
      w & CATEGORICAL
        ? (p.masks[nodes[i + 1] + (b >>> 5)] >>> (b & 31)) & 1
        : (b - ((w >>> SKIP_SHIFT) & 1)) >>> 0 < nodes[i + 1];
    n = left ? n + 1 : nodes[i + 2];
  }
}
