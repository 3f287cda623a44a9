/**
 * A worker thread of ./engine.ts: waits on the control words, does its share of the posted pass
 * (the same functions the calling thread runs for its own share), and says it is done.
 */
import { workerData } from 'node:worker_threads';
import { gradients } from './gradients.ts';
import { buildHistogram, buildRootHistogram } from './split.ts';
import { treeValue } from '../../core/model/tree-value.ts';
import { sortF64 } from './sort-f64.ts';
import { partitionChunk } from './partition.ts';
import { CTRL, share, TASK, type EngineArrays, type EngineSetup } from './engine-protocol.ts';

const { setup, arrays, ctrl, errorText, index, threads } = workerData as {
  setup: EngineSetup;
  arrays: EngineArrays;
  ctrl: Int32Array;
  errorText: Uint8Array;
  index: number;
  threads: number;
};
const { bins, y, weight, scores, grad, hess, order, hists, validationBins, rawV, tree, sortA } = arrays;
const { columns, scratch, goesLeft, lefts } = arrays;
const { width, offsets, counts, slotSize, objective, k } = setup;
const hist = (slot: number) => hists.subarray(slot * slotSize, (slot + 1) * slotSize);
const [f0, f1] = share(width, index, threads);

let gen = 0;
Atomics.store(ctrl, CTRL.DONE + index, 0);
Atomics.notify(ctrl, CTRL.DONE + index);
for (;;) {
  Atomics.wait(ctrl, CTRL.GEN, gen);
  gen = Atomics.load(ctrl, CTRL.GEN);
  const kind = ctrl[CTRL.KIND];
  if (kind === TASK.EXIT) break;
  try {
    const start = ctrl[CTRL.START];
    const end = ctrl[CTRL.END];
    const slot = ctrl[CTRL.SLOT];
    if (kind === TASK.GRADIENTS) {
      const [r0, r1] = share(y.length, index, threads);
      gradients(objective, scores, y, weight, k, ctrl[CTRL.CLASS], grad, hess, r0, r1);
    } else if (kind === TASK.SCORE) {
      const nv = validationBins.length / width;
      const [r0, r1] = share(nv, index, threads);
      const c = ctrl[CTRL.CLASS];
      for (let r = r0; r < r1; r++) rawV[r * k + c] += treeValue(tree, validationBins, r * width);
    } else if (kind === TASK.PARTITION) {
      const n = order.length;
      const [a, b] = share(end - start, index, threads);
      const col = columns.subarray(slot * n, (slot + 1) * n);
      lefts[index] = partitionChunk(order, col, goesLeft, start + a, start + b, scratch);
    } else if (kind === TASK.SORT) {
      if (index === 1) sortF64(sortA.subarray(0, slot));
    } else if (kind === TASK.ROOT) buildRootHistogram(hist(slot), bins, width, offsets, grad, hess, counts, f0, f1);
    else buildHistogram(hist(slot), bins, width, offsets, grad, hess, order, start, end, f0, f1);
  } catch (e) {
    new TextEncoder().encodeInto(`worker ${index}: ${(e as Error).stack ?? String(e)}`.slice(0, 1000), errorText);
    Atomics.store(ctrl, CTRL.ERROR, 1);
  }
  Atomics.store(ctrl, CTRL.DONE + index, gen);
  Atomics.notify(ctrl, CTRL.DONE + index);
}
