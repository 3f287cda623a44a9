/**
 * The stable partition of a leaf's rows when it splits (rows going left first, each side in its
 * old order), in chunks that threads can take apart (./engine.ts): each chunk is partitioned on
 * its own, then the chunks' lefts and rights are put together — the same result as one pass.
 */

/** Which bins go left, as a table (into `goesLeft` when given): one lookup per row instead of a branch on the split's kind. */
export function leftTable(
  split: { cats: number[] | null; threshold: number; defaultLeft: boolean },
  goesLeft: Uint8Array = new Uint8Array(256),
): Uint8Array {
  goesLeft.fill(0);
  if (split.cats) for (const c of split.cats) goesLeft[c] = 1;
  else {
    goesLeft[0] = split.defaultLeft ? 1 : 0;
    for (let b = 1; b <= split.threshold && b < 256; b++) goesLeft[b] = 1;
  }
  return goesLeft;
}

/**
 * Partition order[a..b) by `col` (one input's bins, by row): the lefts stay in `order` from a
 * on, the rights go to scratch from a on. Returns how many went left.
 */
export function partitionChunk(
  order: Int32Array,
  col: Uint8Array,
  goesLeft: Uint8Array,
  a: number,
  b: number,
  scratch: Int32Array,
): number {
  let l = a;
  let r = a;
  // Branch-free (the side is a coin flip to the branch predictor): each row is written to both
  // places and only its side's cursor moves. order[l] is safe to overwrite: l ≤ i, already read.
  for (let i = a; i < b; i++) {
    const row = order[i];
    const left = goesLeft[col[row]];
    order[l] = row;
    scratch[r] = row;
    l += left;
    r += 1 - left;
  }
  return l - a;
}

/**
 * After partitionChunk on each chunk [a, b) of order[start..end): every chunk's lefts in chunk
 * order, then every chunk's rights. Returns where the rights start.
 */
export function assembleChunks(
  order: Int32Array,
  scratch: Int32Array,
  chunks: [number, number][],
  lefts: ArrayLike<number>,
  start: number,
): number {
  let at = start;
  // Each chunk's lefts move down (never past a later chunk's, which are still where they were).
  chunks.forEach(([a], t) => {
    if (at !== a) order.copyWithin(at, a, a + lefts[t]);
    at += lefts[t];
  });
  const mid = at;
  chunks.forEach(([a, b], t) => {
    const rights = b - a - lefts[t];
    order.set(scratch.subarray(a, a + rights), at);
    at += rights;
  });
  return mid;
}
