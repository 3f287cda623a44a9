/**
 * `npm run score:batch -- --input <csv|parquet|gs://…|vega-datasets:…> --output <file.csv|gs://…>
 * [--stage production|staging] [--chunk 100000] [--shard K/N]`: scores a file of any size with the
 * registry's model for that stage. Parquet is read in row ranges (bounded memory); every output row
 * carries the source row, the prediction and the model version; invalid rows get their reasons
 * instead of a prediction. `--shard K/N` (or JOB_COMPLETION_INDEX + JOB_COMPLETIONS in a
 * Kubernetes Indexed Job) scores every N-th chunk starting at K, so pods split one input.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { loadParams } from '../core/schemas/params.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import { loadBundle } from '../core/model/bundle.ts';
import { decisionThreshold, labelAt } from '../core/model/decision.ts';
import { openRegistry } from '../core/registry/index.ts';
import { bundledDatasetPath, isBundledDataset } from '../core/data/datasets.ts';
import { openParquet, readParquetTable } from '../core/data/parquet.ts';
import { readCsvTable, ROW_COLUMN } from '../core/data/csv.ts';
import { validateTable } from '../core/data/validation.ts';
import { sliceRows, type Table } from '../core/data/table.ts';
import { openStore } from '../core/platform/storage.ts';
import type { Logger } from '../core/platform/log.ts';
import { isMain, parseFlags, runStageCli } from './stage-cli.ts';
import { tempSiblingPath } from '../core/platform/temp-files.ts';

export interface ScoreOptions {
  input: string;
  output: string;
  stage: string;
  chunk: number;
  shard: { index: number; count: number };
  repoRoot: string;
  log: Logger;
  registryUrl?: string;
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export async function scoreBatch(o: ScoreOptions): Promise<{
  rows: number;
  scored: number;
  rejected: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
  version: number;
}> {
  const params = await loadParams(join(o.repoRoot, 'params.yaml'));
  const name = params.register?.model_name ?? 'flight-delay';
  const registry = await openRegistry(
    o.registryUrl ?? process.env.REGISTRY_URL ?? params.register?.registry ?? 'registry',
    { baseDir: o.repoRoot, log: o.log.child('registry') },
  );
  const version = await registry.requireStage(name, o.stage);
  const fetched = await registry.fetchBundle(
    name,
    version.version,
    join(o.repoRoot, '.pipeline', 'score-cache', `v${version.version}`),
    { inPlace: true },
  );
  const { tf } = await selectBackend({ log: o.log });
  const bundle = await loadBundle(tf, fetched.dir);
  const fields = Object.keys(bundle.meta.input_schema);
  o.log.info(`scoring with ${name} v${version.version} (${o.stage})`, {
    input: o.input,
    shard: `${o.shard.index}/${o.shard.count}`,
  });

  // Remote output: write locally, upload when complete. Local output: temp file, renamed at the end.
  const remote = /^gs:\/\//.test(o.output);
  const finalPath = remote ? join(tmpdir(), `score-${process.pid}.csv`) : resolve(o.repoRoot, o.output);
  const tmp = tempSiblingPath(finalPath);
  await mkdir(dirname(finalPath), { recursive: true });
  const out = createWriteStream(tmp);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  const classification = bundle.meta.task === 'classification';
  await write(`source_row,${classification ? 'probability,label' : 'prediction'},model_name,model_version,error\n`);

  const started = performance.now();
  let peakRss = 0,
    rows = 0,
    scored = 0,
    rejected = 0;
  const threshold = decisionThreshold(bundle.meta);
  const scoreChunk = async (table: Table, firstRow: number) => {
    const result = validateTable(table, bundle.meta.input_schema);
    const valid = result.clean;
    const predictions = valid.length ? bundle.predictTable(valid) : new Float32Array(0);
    const bad = new Map(
      result.rejects.map((r) => [r.index, r.problems.map((p) => `${p.column}: ${p.reason}`).join('; ')]),
    );
    const rowCol = table.columns[ROW_COLUMN];
    let k = 0;
    let text = '';
    for (let i = 0; i < table.length; i++) {
      const sourceRow = rowCol && rowCol.type !== 'string' ? rowCol.values[i] : firstRow + i + 1;
      const problem = bad.get(i);
      if (problem) {
        text += `${sourceRow},${classification ? ',' : ''},${name},${version.version},${csvCell(problem)}\n`;
        rejected++;
      } else {
        const p = predictions[k++];
        text += `${sourceRow},${classification ? `${p},${labelAt(p, threshold)}` : p},${name},${version.version},\n`;
        scored++;
      }
    }
    rows += table.length;
    await write(text);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };

  try {
    const path = isBundledDataset(o.input)
      ? bundledDatasetPath(o.input)
      : /^[a-z]+:\/\//.test(o.input)
        ? (
            await (
              await import('../core/data/materialize.ts')
            ).materializeSource(o.input, { cacheDir: join(o.repoRoot, '.pipeline', 'source-cache'), log: o.log })
          ).path
        : resolve(o.repoRoot, o.input);
    if (/\.parquet$/i.test(path)) {
      const pq = await openParquet(path);
      const chunks = Math.ceil(pq.rows / o.chunk);
      for (let c = o.shard.index; c < chunks; c += o.shard.count) {
        const start = c * o.chunk;
        await scoreChunk(
          await readParquetTable(pq, {
            columns: fields.filter((f) => pq.columns.some((col) => col.name === f)),
            rowStart: start,
            rowEnd: Math.min(pq.rows, start + o.chunk),
          }),
          start,
        );
        if (c % 10 === o.shard.index)
          o.log.info(`scored ${rows} rows`, { rows_per_s: Math.round(rows / ((performance.now() - started) / 1000)) });
      }
    } else {
      // CSV has no random access: read once (columnar, compact), score in chunks.
      const { table } = await readCsvTable(path, { maxFieldBytes: params.validate.max_field_bytes });
      for (let start = o.shard.index * o.chunk; start < table.length; start += o.chunk * o.shard.count)
        await scoreChunk(sliceRows(table, start, start + o.chunk), start);
    }
    out.end();
    await once(out, 'close');
    await rename(tmp, finalPath);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  } finally {
    bundle.dispose();
  }
  if (remote) {
    const m = /^(gs:\/\/[^/]+)\/(.*)$/.exec(o.output)!;
    await openStore(m[1], o.repoRoot).putFile(m[2], finalPath);
    await rm(finalPath, { force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    rows,
    scored,
    rejected,
    seconds: +seconds.toFixed(2),
    rowsPerSecond: Math.round(rows / seconds),
    peakRssMb: Math.round(peakRss / 1e6),
    version: version.version,
  };
}

export function parseShard(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): { index: number; count: number } {
  const text =
    flag ??
    (env.JOB_COMPLETION_INDEX !== undefined ? `${env.JOB_COMPLETION_INDEX}/${env.JOB_COMPLETIONS ?? '1'}` : '0/1');
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m || Number(m[1]) >= Number(m[2])) throw new Error(`--shard must be K/N with 0 ≤ K < N, got "${text}"`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

if (isMain(import.meta.url)) {
  await runStageCli('score:batch', async (log, argv) => {
    const f = parseFlags(argv, ['input', 'output', 'stage', 'chunk', 'shard', 'registry']);
    if (!f.input || !f.output)
      throw new Error(
        'usage: npm run score:batch -- --input <csv|parquet|gs://…> --output <file.csv|gs://bucket/path.csv> [--stage production|staging] [--shard K/N]',
      );
    const result = await scoreBatch({
      input: f.input,
      output: f.output,
      stage: f.stage ?? 'production',
      chunk: Number(f.chunk ?? 100_000),
      shard: parseShard(f.shard, process.env),
      repoRoot: process.cwd(),
      log,
      registryUrl: f.registry,
    });
    process.stdout.write(JSON.stringify(result) + '\n');
  });
}
