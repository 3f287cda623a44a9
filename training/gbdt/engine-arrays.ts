/**
 * The arrays the gbdt engine (./engine.ts) and its workers (./engine-worker.ts) work in: on
 * SharedArrayBuffers when there are workers to share them with, plain typed arrays on one thread
 * (the caller's own bins and targets then used in place, not copied).
 */
import { shared, treeBuffer, type EngineArrays, type EngineSetup } from './engine-protocol.ts';

export function engineArrays(s: EngineSetup, threads: number): EngineArrays {
  const n = s.y.length;
  const par = threads > 1;
  const f32 = (len: number) => (par ? shared((b) => new Float32Array(b), len * 4) : new Float32Array(len));
  const copyF32 = (a: Float32Array) => {
    const out = f32(a.length);
    out.set(a);
    return out;
  };
  const copyU8 = (a: Uint8Array) => {
    if (!par) return a;
    const out = shared((b) => new Uint8Array(b), a.length).subarray(0, a.length);
    out.set(a);
    return out;
  };
  const nv = s.validationBins.length / s.width;
  const f64 = (len: number) => (par ? shared((b) => new Float64Array(b), len * 8) : new Float64Array(len));
  const arrays: EngineArrays = {
    bins: copyU8(s.bins),
    y: par ? copyF32(s.y) : s.y,
    weight: s.weight && (par ? copyF32(s.weight) : s.weight),
    scores: f64(n * s.k),
    grad: f32(n),
    hess: f32(n),
    order: par ? shared((b) => new Int32Array(b), n * 4) : new Int32Array(n),
    hists: f64(s.slots * s.slotSize),
    columns: par
      ? shared((b) => new Uint8Array(b), s.bins.length).subarray(0, s.bins.length)
      : new Uint8Array(s.bins.length),
    scratch: par ? shared((b) => new Int32Array(b), n * 4) : new Int32Array(n),
    goesLeft: par ? shared((b) => new Uint8Array(b), 256) : new Uint8Array(256),
    lefts: par ? shared((b) => new Int32Array(b), threads * 4) : new Int32Array(threads),
    validationBins: copyU8(s.validationBins),
    rawV: f64(nv * s.k),
    tree: treeBuffer(par ? s.maxNodes : 0, par),
    sortA: f64(nv),
    sortB: f64(nv),
  };
  // Input-major copy of the bins: a partition reads one input's bins for a run of rows.
  const { columns } = arrays;
  for (let r = 0; r < n; r++) for (let f = 0; f < s.width; f++) columns[f * n + r] = s.bins[r * s.width + f];
  return arrays;
}
