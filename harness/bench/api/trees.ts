/**
 * `npm run bench:trees`: CPU µs per row of the served tree ensemble's scoring (core/model/trees.ts
 * `rawScores` of a loaded model: the WebAssembly module of core/model/tree-wasm.ts) beside the
 * packed records of core/model/tree-pack.ts and the per-field walk training uses (`treeValue`, the
 * reference both must equal bit for bit), on the production model (one output), no server. Rows are binned from records as the API bins them: "same" is the first golden
 * example repeated (what bench:api sends: every walk takes the same path, which the branch
 * predictor learns), "distinct" are records drawn at random (seeded) from the spec's vocabularies
 * and ranges, "test split" the first rows of the pipeline's own test split
 * (artifacts/prepared/test.parquet, when this checkout has run the pipeline): real flights, whose
 * paths repeat more than random records' do. "cold" touches BENCH_TREES_TOUCH_MB (1) MB between
 * calls, as a request's HTTP work does between two forward passes. Best of BENCH_TREES_REPS repetitions; one JSON document on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCli } from '../../../core/platform/cli.ts';
import { openRegistry } from '../../../core/registry/index.ts';
import { loadBundle, prepareBundleModel } from '../../../core/model/bundle.ts';
import { recordsToTable } from '../../../core/data/records.ts';
import { encodeFeatures } from '../../../core/model/features.ts';
import { binRows } from '../../../core/model/tree-inputs.ts';
import { isTreeModel, rawScores, treeWalkOf, type TreeModel } from '../../../core/model/trees.ts';
import { addTreeScores, packEnsemble } from '../../../core/model/tree-pack.ts';
import { treeValue } from '../../../core/model/tree-value.ts';
import { envNumber } from './cli.ts';
import { existsSync } from 'node:fs';
import { readParquetTable } from '../../../core/data/parquet.ts';
import { PREPARED_DIR } from '../../../training/contracts/paths.ts';

/** 16–32 rows: the batches bench:api's connections coalesce into (tree by tree); 1–15: the lanes. */
const ROW_COUNTS = [1, 4, 16, 32, 100];
const junk = new Int32Array((envNumber('BENCH_TREES_TOUCH_MB', 1) * (1 << 20)) / 4);
let sink = 0;
const touchMegabyte = () => {
  for (let i = 0; i < junk.length; i += 16) sink += junk[i]++;
};

function randomRecords(
  spec: { features: { kind: string; name: string; vocabulary?: string[]; min?: number; max?: number }[] },
  n: number,
) {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => {
    const record: Record<string, unknown> = {};
    for (const f of spec.features) {
      if (f.kind === 'datetime')
        record[f.name] = new Date(Date.UTC(2001, 0, 1) + Math.floor(rnd() * 180 * 1440) * 60_000).toISOString();
      else if (f.kind === 'numeric') record[f.name] = Math.round((f.min ?? 0) + rnd() * ((f.max ?? 1) - (f.min ?? 0)));
      else if (f.kind === 'categorical' && f.vocabulary)
        record[f.name] = f.vocabulary[1 + Math.floor(rnd() * (f.vocabulary.length - 1))];
    }
    return record;
  });
}

async function main() {
  const reps = Math.round(envNumber('BENCH_TREES_REPS', 7));
  const name = process.env.MODEL_NAME ?? 'flight-delay';
  const registry = await openRegistry(process.env.REGISTRY_URL || 'registry');
  const version = await registry.requireStage(name, 'production');
  const dir = mkdtempSync(join(tmpdir(), 'bench-trees-'));
  try {
    await registry.fetchBundle(name, version.version, join(dir, 'b'));
    const bundle = await loadBundle(null as never, join(dir, 'b'));
    if (!isTreeModel(bundle.model))
      throw new Error(`${name} v${version.version} is not a tree ensemble: nothing to measure`);
    const m: TreeModel = bundle.model;
    const width = m.json.inputs.length;
    const binsOf = (records: unknown[]) => {
      const { table } = recordsToTable(records, bundle.meta.input_schema);
      return binRows(m.json.inputs, encodeFeatures(bundle.spec, table), table, bundle.spec);
    };
    const rows = 4096;
    const sets = {
      same: binsOf(Array.from({ length: rows }, () => bundle.golden[0].record)),
      distinct: binsOf(randomRecords(bundle.spec, rows)),
    } as Record<string, Uint8Array>;
    const testSplit = join(PREPARED_DIR, 'test.parquet');
    if (existsSync(testSplit)) {
      const t = await readParquetTable(testSplit, { rowEnd: rows });
      // The split's rows may be fewer than `rows`: repeated to fill, so every call reads real rows.
      const real = binRows(m.json.inputs, encodeFeatures(bundle.spec, t), t, bundle.spec);
      sets['test split'] = Uint8Array.from({ length: rows * width }, (_, i) => real[i % real.length]);
    } else
      process.stderr.write(`bench:trees: no ${testSplit} (run the pipeline first): test-split rows not measured\n`);
    const reference = (bins: Uint8Array, n: number) => {
      const out = new Float64Array(n);
      for (const t of m.compiled) for (let r = 0; r < n; r++) out[r] += treeValue(t, bins, r * width);
      return out;
    };
    await prepareBundleModel(m);
    if (treeWalkOf(m) !== 'wasm') throw new Error('the loaded model did not compile to WebAssembly');
    const served = (bins: Uint8Array, n: number) => rawScores(m, bins, n);
    const pack = packEnsemble(m.compiled);
    const packed = (bins: Uint8Array, n: number) => {
      const out = new Float64Array(n).fill(m.json.base_score[0]);
      addTreeScores(pack, bins, n, width, 1, m.compiled.length, out);
      return out;
    };
    const time = (
      f: (bins: Uint8Array, n: number) => ArrayLike<number>,
      bins: Uint8Array,
      n: number,
      cold: boolean,
    ) => {
      const calls = Math.max(8, Math.floor(600 / n));
      let us = 0;
      for (let i = 0; i < calls; i++) {
        const at = ((i * 7 * n) % (rows - n)) * width;
        if (cold) touchMegabyte();
        const t = process.cpuUsage();
        sink += f(bins.subarray(at, at + n * width), n)[0];
        const u = process.cpuUsage(t);
        us += u.user + u.system;
      }
      return us / calls / n;
    };
    const results: Record<string, Record<string, number>> = {};
    for (let rep = 0; rep < reps; rep++)
      for (const [set, bins] of Object.entries(sets))
        for (const cold of [false, true])
          for (const n of ROW_COUNTS)
            for (const [walk, f] of [
              ['wasm (served)', served],
              ['packed', packed],
              ['per-field reference', reference],
            ] as const) {
              const key = `${set} rows, ${cold ? 'cold' : 'hot'}, ${n} row${n > 1 ? 's' : ''}`;
              const v = time(f, bins, n, cold);
              results[key] ??= {};
              results[key][walk] = Math.min(results[key][walk] ?? Infinity, Math.round(v * 10) / 10);
            }
    process.stdout.write(
      JSON.stringify(
        {
          benchmark: 'trees',
          model: `${name} v${version.version}`,
          trees: m.compiled.length,
          reps,
          load_average: loadavg()[0],
          cpu_us_per_row: results,
          sink: sink > 0,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const USAGE = `usage: npm run bench:trees
  CPU µs per row of the production tree ensemble's packed scoring beside the per-field reference
  walk, at 1, 4, 16, 32 and 100 rows, for one repeated record, for distinct random records and for
  the pipeline's test split (artifacts/prepared/test.parquet, when it exists), with
  warm caches and with memory touched between calls; one JSON document on stdout
env: REGISTRY_URL (registry), MODEL_NAME (flight-delay), BENCH_TREES_REPS (7, best of),
  BENCH_TREES_TOUCH_MB (1: memory written between two "cold" calls)`;

await defineCli({ name: 'bench:trees', usage: USAGE }, main).main();
