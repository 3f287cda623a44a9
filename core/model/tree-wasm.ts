/**
 * A tree ensemble compiled to WebAssembly: each split an `if` on the row's bin against constants,
 * each leaf's value a constant, so a row's walk reads only its own bins (and, at a categorical
 * split, one word of its bin's row of a table) and the CPU's branch predictor and prefetcher see
 * straight code, not the data-dependent loads of the packed walk (./tree-pack.ts). The scores are
 * the packed walk's bit for bit: each row's trees are added in tree order, as `treeValue` sums them.
 *
 * The module is built in memory from the compiled trees (no compiler, no files) when a model is
 * first scored and is the model's for as long as the model lives. WebAssembly has no deoptimisation:
 * a row that takes a path no earlier row took costs what any other does, which is why this is
 * WebAssembly and not generated JavaScript (V8 recompiles a JS function when a branch it never saw
 * is taken; measured in docs/benchmarks.md).
 *
 * Layout in the module's memory: the categorical splits' left-going sets, transposed into one table
 * per categorical input (`CategoryTables`), from address 0, then the outputs (rows × k Float64),
 * then the rows' bins. Trees are grouped into functions of about CHUNK_BYTES of code (V8 tiers a
 * wasm function up on its own, and a small function compiles fast); `run(rows, bins, out)` calls
 * them in tree order. Each function walks its trees row by row: the paths its rows take through its
 * ~9 trees stay in the instruction cache across the rows (docs/benchmarks.md measures it against
 * tree by tree).
 */
import type { CompiledTree } from './tree-value.ts';

/** Code bytes per function (a tree or more each): small enough for V8 to optimize quickly. */
const CHUNK_BYTES = 48 * 1024;
const PAGE = 65536;

export interface WasmEnsemble {
  /** Adds every tree's value to `out` (rows × k, row-major; tree t adds to class t mod k). */
  addScores(bins: Uint8Array, rows: number, out: Float64Array): void;
  /** Size of the generated module in bytes. */
  bytes: number;
}

class Bytes {
  buf: Uint8Array;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }
  length = 0;
  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number) {
    this.room(1);
    this.buf[this.length++] = b;
  }
  bytes(a: ArrayLike<number>) {
    this.room(a.length);
    this.buf.set(a, this.length);
    this.length += a.length;
  }
  u32(v: number) {
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
  }
  i32(v: number) {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }
  private static f64 = new Float64Array(1);
  private static f64Bytes = new Uint8Array(Bytes.f64.buffer);
  f64(v: number) {
    Bytes.f64[0] = v;
    this.bytes(Bytes.f64Bytes);
  }
  view() {
    return this.buf.subarray(0, this.length);
  }
}

// Opcodes (WebAssembly core specification 1.0).
const OP = {
  end: 0x0b,
  if: 0x04,
  else: 0x05,
  loop: 0x03,
  brIf: 0x0d,
  call: 0x10,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  f64Load: 0x2b,
  i32Load8u: 0x2d,
  f64Store: 0x39,
  i32Const: 0x41,
  f64Const: 0x44,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32ShrU: 0x76,
  f64Add: 0xa0,
} as const;
const I32 = 0x7f;
const F64 = 0x7c;

// A chunk function's locals: params rows, bins, out; then ptr, end, o, then the row's values its
// trees' splits compare (`RowValues`), set once per row.
const ROWS = 0;
const BINS = 1;
const OUT = 2;
const PTR = 3;
const END = 4;
const O = 5;
const FIRST_VALUE = 6;

/**
 * What a chunk's splits read of a row, each loaded once per row into a local: for a categorical
 * input, the offset of its bin's row in the input's table (bin × stride); for an ordered input,
 * its bin less 0 or 1 (`b − skip`, the split's unsigned comparison). Keyed by input × 3 + what.
 */
class RowValues {
  private locals = new Map<number, number>();
  private local(key: number): number {
    let l = this.locals.get(key);
    if (l === undefined) this.locals.set(key, (l = FIRST_VALUE + this.locals.size));
    return l;
  }
  tableRow = (f: number) => this.local(f * 3);
  bin = (f: number, skip: 0 | 1) => this.local(f * 3 + 1 + skip);
  get count() {
    return this.locals.size;
  }
  copy(): RowValues {
    const c = new RowValues();
    c.locals = new Map(this.locals);
    return c;
  }
  /** Code that sets every local from the row at `ptr`. */
  emitLoads(body: Bytes, tables: CategoryTables): void {
    for (const [key, l] of this.locals) {
      const f = Math.floor(key / 3);
      local(body, OP.localGet, PTR);
      memory(body, OP.i32Load8u, 0, f);
      if (key % 3 === 0) {
        i32Const(body, tables.at.get(f)!.stride);
        body.byte(OP.i32Mul);
      } else if (key % 3 === 2) {
        i32Const(body, 1);
        body.byte(OP.i32Sub);
      }
      local(body, OP.localSet, l);
    }
  }
}

/**
 * The categorical splits' left-going sets, transposed: per categorical input, one row per bin
 * value (256, every value a byte can hold) of one bit per distinct set of that input, bit s of row
 * b set when bin b goes left at set s. A row's tests on one input then all read the one row of its
 * bin: the sets are numbered in tree order, so a row's walk reads that row from start to end (a
 * few dozen cache lines) instead of one cache line per split scattered over every set, and a split
 * is one load and one mask test against constants.
 */
class CategoryTables {
  /** Per input: a hash of a set's 8 words → the numbers of the sets with that hash. */
  private ids = new Map<number, Map<number, number[]>>();
  /** Per input: the sets' words, in number order. */
  private words = new Map<number, Uint32Array[]>();
  /** Per tree: each categorical split's set number (−1 elsewhere). */
  private nodeIds = new Map<CompiledTree, Int32Array>();
  /** Per input: where its rows start, and the bytes of one row (after `layout`). */
  at = new Map<number, { address: number; stride: number }>();
  bytes = 0;
  /** Numbers the set of categorical split `node` of `t` among its input's sets. */
  add(t: CompiledTree, node: number): void {
    const f = t.feature[node];
    const m = t.masks;
    const at = node * 8;
    let h = 0x811c9dc5;
    for (let w = 0; w < 8; w++) h = Math.imul(h ^ m[at + w], 0x01000193);
    let ids = this.ids.get(f);
    if (!ids) this.ids.set(f, (ids = new Map<number, number[]>()));
    let words = this.words.get(f);
    if (!words) this.words.set(f, (words = []));
    const same = ids.get(h) ?? [];
    let id = same.find((i) => words[i].every((x, w) => x === m[at + w]));
    if (id === undefined) {
      id = words.length;
      words.push(m.slice(at, at + 8));
      if (same.length === 0) ids.set(h, same);
      same.push(id);
    }
    let nodes = this.nodeIds.get(t);
    if (!nodes) this.nodeIds.set(t, (nodes = new Int32Array(t.feature.length).fill(-1)));
    nodes[node] = id;
  }
  idOf(t: CompiledTree, node: number): number {
    return this.nodeIds.get(t)![node];
  }
  /** Places each input's rows from address 0; call once every set is added. */
  layout(): void {
    let address = 0;
    for (const [f, sets] of this.words) {
      const stride = Math.ceil(sets.length / 32) * 4;
      this.at.set(f, { address, stride });
      address += 256 * stride;
    }
    this.bytes = address;
  }
  /** The rows' contents (the module's data segment). */
  content(): Uint8Array {
    const words = new Uint32Array(this.bytes / 4);
    for (const [f, sets] of this.words) {
      const { address, stride } = this.at.get(f)!;
      sets.forEach((set, s) => {
        for (let w = 0; w < 8; w++)
          // Each member b of the set: its lowest bit at a time.
          for (let x = set[w]; x !== 0; x &= x - 1) {
            const b = w * 32 + 31 - Math.clz32(x & -x);
            words[(address + b * stride) / 4 + (s >>> 5)] |= 1 << (s & 31);
          }
      });
    }
    return new Uint8Array(words.buffer);
  }
}

/**
 * Every categorical split's set, numbered per input in tree order (a pass before any code is
 * emitted: a split's code needs its row's stride, which needs the count of that input's sets); a
 * generator, as `moduleParts` is.
 */
function* numberSets(trees: readonly CompiledTree[], tables: CategoryTables) {
  for (const t of trees) {
    for (let i = 0; i < t.feature.length; i++) if (t.feature[i] >= 0 && t.categorical[i]) tables.add(t, i);
    yield;
  }
  tables.layout();
}

/** An instruction with a local's index, a constant, or a memory access (align as log2 bytes, offset). */
const local = (code: Bytes, op: number, index: number) => (code.byte(op), code.u32(index));
const i32Const = (code: Bytes, v: number) => (code.byte(OP.i32Const), code.i32(v));
const memory = (code: Bytes, op: number, align: number, offset: number) => (
  code.byte(op),
  code.u32(align),
  code.u32(offset)
);

/**
 * Node `i` of `t` as an expression that leaves its leaf's value (f64) on the stack, reading the row
 * through `row`'s locals (added to as the chunk needs).
 */
function emitNode(code: Bytes, t: CompiledTree, i: number, tables: CategoryTables, row: RowValues): void {
  // An explicit stack: trees can be deep, and each split is "test, if, left, else, right, end".
  const stack: (number | 'else' | 'end')[] = [i];
  while (stack.length) {
    const item = stack.pop()!;
    if (item === 'else' || item === 'end') {
      code.byte(item === 'else' ? OP.else : OP.end);
      continue;
    }
    const f = t.feature[item];
    if (f < 0) {
      code.byte(OP.f64Const);
      code.f64(t.value[item]);
      continue;
    }
    if (t.categorical[item]) {
      // Bit s of the word (s >> 5) of the row of this input's table for the row's bin.
      const s = tables.idOf(t, item);
      local(code, OP.localGet, row.tableRow(f));
      memory(code, OP.i32Load, 2, tables.at.get(f)!.address + (s >>> 5) * 4);
      i32Const(code, 1 << (s & 31));
      code.byte(OP.i32And);
    } else {
      // Left when 0 ≤ b − skip < limit: b ≤ threshold, with bin 0 (missing) left only if default_left.
      const skip = t.defaultLeft[item] === 1 ? 0 : 1;
      const limit = Math.min(255, Math.max(0, t.threshold[item])) + 1 - skip;
      local(code, OP.localGet, row.bin(f, skip));
      i32Const(code, limit);
      code.byte(OP.i32LtU);
    }
    code.byte(OP.if);
    code.byte(F64);
    stack.push('end', t.right[item], 'else', t.left[item]);
  }
}

/**
 * One function: for each row, each of its trees (row by row within a function, function by
 * function over the rows): the trees of one function, a few KB of code each of whose rows takes a
 * short path, stay in the instruction cache across the rows, and the loop's own work is paid once
 * per row for all of them. Each tree adds its value to the row's output in memory, in tree order.
 */
function emitChunk(
  trees: readonly Uint8Array[],
  first: number,
  k: number,
  width: number,
  tables: CategoryTables,
  row: RowValues,
): Uint8Array {
  const body = new Bytes();
  body.u32(1); // one group of locals
  body.u32(FIRST_VALUE - PTR + row.count);
  body.byte(I32);
  // end = out + rows × k × 8: the loop steps the outputs (the bins step by the width, which may be 0)
  local(body, OP.localGet, OUT);
  local(body, OP.localGet, ROWS);
  i32Const(body, k * 8);
  body.byte(OP.i32Mul);
  body.byte(OP.i32Add);
  local(body, OP.localSet, END);
  local(body, OP.localGet, BINS);
  local(body, OP.localSet, PTR);
  local(body, OP.localGet, OUT);
  local(body, OP.localSet, O);
  body.byte(OP.loop);
  body.byte(0x40);
  row.emitLoads(body, tables);
  trees.forEach((t, j) => {
    const c = (first + j) % k;
    // out[o + c] = out[o + c] + value
    local(body, OP.localGet, O);
    local(body, OP.localGet, O);
    memory(body, OP.f64Load, 3, c * 8);
    body.bytes(t);
    body.byte(OP.f64Add);
    memory(body, OP.f64Store, 3, c * 8);
  });
  // ptr += width; o += k × 8; loop while o < end
  local(body, OP.localGet, PTR);
  i32Const(body, width);
  body.byte(OP.i32Add);
  local(body, OP.localSet, PTR);
  local(body, OP.localGet, O);
  i32Const(body, k * 8);
  body.byte(OP.i32Add);
  local(body, OP.localTee, O);
  local(body, OP.localGet, END);
  body.byte(OP.i32LtU);
  local(body, OP.brIf, 0);
  body.byte(OP.end);
  body.byte(OP.end);
  return body.view().slice();
}

function section(out: Bytes, id: number, content: Bytes) {
  out.byte(id);
  out.u32(content.length);
  out.bytes(content.view());
}

/**
 * The module's parts, a tree at a time (a generator, so a server can yield to its requests while a
 * large ensemble is built): the chunk functions' bodies.
 */
function* moduleParts(
  trees: readonly CompiledTree[],
  k: number,
  width: number,
  tables: CategoryTables,
  chunks: Uint8Array[],
) {
  let pending: Uint8Array[] = [];
  let row = new RowValues();
  let bytes = 0;
  let chunkStart = 0;
  for (let ti = 0; ti < trees.length; ti++) {
    const expr = new Bytes();
    const used = row.copy();
    emitNode(expr, trees[ti], 0, tables, used);
    if (pending.length && bytes + expr.length > CHUNK_BYTES) {
      chunks.push(emitChunk(pending, chunkStart, k, width, tables, row));
      pending = [];
      bytes = 0;
      chunkStart = ti;
      // The tree starts a new function: its inputs' locals numbered afresh.
      row = new RowValues();
      expr.length = 0;
      emitNode(expr, trees[ti], 0, tables, row);
    } else row = used;
    pending.push(expr.view());
    bytes += expr.length;
    yield;
  }
  if (pending.length) chunks.push(emitChunk(pending, chunkStart, k, width, tables, row));
}

/** The module's bytes, and where the outputs start (after the category tables). */
export function ensembleModule(trees: readonly CompiledTree[], k: number, width: number) {
  const tables = new CategoryTables();
  const chunks: Uint8Array[] = [];
  for (const _ of numberSets(trees, tables));
  for (const _ of moduleParts(trees, k, width, tables, chunks));
  return assemble(chunks, tables);
}

async function ensembleModuleAsync(trees: readonly CompiledTree[], k: number, width: number) {
  const tables = new CategoryTables();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (const _ of numberSets(trees, tables))
    if (++n % (4 * YIELD_EVERY_TREES) === 0) await new Promise((resolve) => setImmediate(resolve));
  for (const _ of moduleParts(trees, k, width, tables, chunks))
    if (++n % YIELD_EVERY_TREES === 0) await new Promise((resolve) => setImmediate(resolve));
  return assemble(chunks, tables);
}

/** ~10 ms of building on the quick default's trees between two turns of the event loop. */
const YIELD_EVERY_TREES = 32;

function assemble(chunks: Uint8Array[], tables: CategoryTables) {
  const m = new Bytes();
  m.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  // Types: 0 = (i32 rows, i32 bins, i32 out) → ().
  const types = new Bytes();
  types.u32(1);
  types.bytes([0x60, 3, I32, I32, I32, 0]);
  section(m, 1, types);
  // Functions: the chunks, then run.
  const funcs = new Bytes();
  funcs.u32(chunks.length + 1);
  for (let i = 0; i <= chunks.length; i++) funcs.u32(0);
  section(m, 3, funcs);
  // Memory: the category tables, grown by the host for rows.
  const setBytes = tables.bytes;
  const outAt = Math.ceil(setBytes / 8) * 8;
  const memory = new Bytes();
  memory.u32(1);
  memory.byte(0);
  memory.u32(Math.max(1, Math.ceil((outAt + PAGE) / PAGE)));
  section(m, 5, memory);
  const exports = new Bytes();
  exports.u32(2);
  for (const [name, kind, index] of [
    ['memory', 2, 0],
    ['run', 0, chunks.length],
  ] as const) {
    const n = new TextEncoder().encode(name);
    exports.u32(n.length);
    exports.bytes(n);
    exports.byte(kind);
    exports.u32(index);
  }
  section(m, 7, exports);
  const codeSec = new Bytes();
  codeSec.u32(chunks.length + 1);
  for (const c of chunks) {
    codeSec.u32(c.length);
    codeSec.bytes(c);
  }
  const run = new Bytes();
  run.u32(0);
  for (let i = 0; i < chunks.length; i++) {
    for (const local of [ROWS, BINS, OUT]) {
      run.byte(OP.localGet);
      run.u32(local);
    }
    run.byte(OP.call);
    run.u32(i);
  }
  run.byte(OP.end);
  codeSec.u32(run.length);
  codeSec.bytes(run.view());
  section(m, 10, codeSec);
  if (setBytes) {
    const data = new Bytes();
    data.u32(1);
    data.u32(0); // active, memory 0
    data.byte(OP.i32Const);
    data.i32(0);
    data.byte(OP.end);
    data.u32(setBytes);
    data.bytes(tables.content());
    section(m, 11, data);
  }
  return { bytes: m.view().slice(), outAt };
}

/**
 * Bytes of bins and outputs per call into the module: its memory holds one slice of rows at a
 * time (~21,000 rows of 16 inputs and one output; one row of a 65,536-input table), not the batch.
 */
const SLICE_BYTES = 16384 * 32;

/** What this file uses of the WebAssembly JS API (the project's TypeScript libs do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
  compile(bytes: Uint8Array): Promise<object>;
}
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

function instantiate(module: object, outAt: number, k: number, width: number, size: number): WasmEnsemble {
  const instance = new wasmApi!.Instance(module);
  const memory = instance.exports.memory as WasmMemory;
  const run = instance.exports.run as (rows: number, bins: number, out: number) => void;
  // A slice's outputs at outAt, its bins right after the largest slice's outputs: fixed places, so
  // the views on them are made once (again after the memory grows), not per call.
  const slice = Math.max(1, Math.floor(SLICE_BYTES / (width + k * 8)));
  const binsAt = outAt + slice * k * 8;
  let buffer: ArrayBuffer | null = null;
  let binsView = new Uint8Array(0);
  let outView = new Float64Array(0);
  return {
    bytes: size,
    addScores(bins, rows, out) {
      const need = binsAt + Math.min(rows, slice) * width;
      if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      if (memory.buffer !== buffer) {
        buffer = memory.buffer;
        binsView = new Uint8Array(buffer, binsAt, Math.floor((buffer.byteLength - binsAt) / width) * width);
        outView = new Float64Array(buffer, outAt, slice * k);
      }
      for (let from = 0; from < rows; from += slice) {
        const n = Math.min(slice, rows - from);
        binsView.set(n === rows && bins.length === n * width ? bins : bins.subarray(from * width, (from + n) * width));
        const o = n === slice ? outView : outView.subarray(0, n * k);
        o.set(n === rows && out.length === n * k ? out : out.subarray(from * k, (from + n) * k));
        run(n, binsAt, outAt);
        out.set(o, from * k);
      }
    },
  };
}

const available = () => typeof wasmApi?.Module === 'function';

/** The ensemble as a WebAssembly module, compiled on this thread; null where WebAssembly is unavailable. */
export function compileEnsemble(trees: readonly CompiledTree[], k: number, width: number): WasmEnsemble | null {
  if (!available() || trees.length === 0 || width === 0) return null;
  const { bytes, outAt } = ensembleModule(trees, k, width);
  return instantiate(new wasmApi!.Module(bytes), outAt, k, width, bytes.length);
}

/** The same, compiled off the main thread (V8 compiles WebAssembly in the background): for a server loading a model. */
export async function compileEnsembleAsync(
  trees: readonly CompiledTree[],
  k: number,
  width: number,
): Promise<WasmEnsemble | null> {
  // No inputs: the row loop steps by the width, so it would score one row; the packed walk serves.
  if (!available() || trees.length === 0 || width === 0) return null;
  const { bytes, outAt } = await ensembleModuleAsync(trees, k, width);
  return instantiate(await wasmApi!.compile(bytes), outAt, k, width, bytes.length);
}
