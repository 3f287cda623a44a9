/**
 * `npm run score:batch -- --input <csv|parquet|gs://…|vega-datasets:…> --output <file.csv|gs://…>
 * [--stage production|staging] [--chunk 100000] [--shard K/N]`: scores a file of any size with the
 * registry's model for that stage. Parquet is read in row ranges (bounded memory); every output row
 * carries the source row, the prediction and the model version; invalid rows get their reasons
 * instead of a prediction. `--shard K/N` (or JOB_COMPLETION_INDEX + JOB_COMPLETIONS in a
 * Kubernetes Indexed Job) scores every N-th chunk starting at K, so pods split one input.
 * Exit 1 when every input row was rejected: a run that scored nothing must not look green.
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
import { createLogger, type Logger } from '../core/platform/log.ts';
import { createProgress } from '../core/platform/progress.ts';
import { isMain } from '../core/platform/is-main.ts';
import { defineCli, numberOption, UsageError, type CliStreams } from '../core/platform/cli.ts';
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
  /** The run fails when more than this share of rows is rejected (default: params.yaml validate.max_reject_rate). */
  maxRejectRate?: number;
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
  reject_rate: number;
  max_reject_rate: number;
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
  // Multi-class: the label, then one probability column per class (in the model's class order).
  const classes = bundle.classes;
  const k = classes?.length ?? 1;
  const outputHeader = classes
    ? ['label', ...classes.map((c) => csvCell(`probability_${c}`))].join(',')
    : classification
      ? 'probability,label'
      : 'prediction';
  const emptyOutputs = classes ? ','.repeat(k) : classification ? ',' : '';
  await write(`source_row,${outputHeader},model_name,model_version,error\n`);

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
    let j = 0;
    let text = '';
    for (let i = 0; i < table.length; i++) {
      const sourceRow = rowCol && rowCol.type !== 'string' ? rowCol.values[i] : firstRow + i + 1;
      const problem = bad.get(i);
      if (problem) {
        text += `${sourceRow},${emptyOutputs},${name},${version.version},${csvCell(problem)}\n`;
        rejected++;
      } else {
        const at = j++;
        const outputs = classes
          ? multiclassCells(classes, predictions.subarray(at * k, (at + 1) * k))
          : classification
            ? `${predictions[at]},${labelAt(predictions[at], threshold)}`
            : `${predictions[at]}`;
        text += `${sourceRow},${outputs},${name},${version.version},\n`;
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
    // This shard's share of the rows: what the progress line counts towards (total and ETA in CI logs too).
    const shardRows = (n: number) => {
      let total = 0;
      for (let start = o.shard.index * o.chunk; start < n; start += o.chunk * o.shard.count)
        total += Math.min(o.chunk, n - start);
      return total;
    };
    if (/\.parquet$/i.test(path)) {
      const pq = await openParquet(path);
      const progress = createProgress('scoring', shardRows(pq.rows), { log: o.log });
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
        progress.update(rows);
      }
      progress.finish();
    } else {
      // CSV has no random access: read once (columnar, compact), score in chunks.
      const { table } = await readCsvTable(path, { maxFieldBytes: params.validate.max_field_bytes });
      const progress = createProgress('scoring', shardRows(table.length), { log: o.log });
      for (let start = o.shard.index * o.chunk; start < table.length; start += o.chunk * o.shard.count) {
        await scoreChunk(sliceRows(table, start, start + o.chunk), start);
        progress.update(rows);
      }
      progress.finish();
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
    reject_rate: rows ? Math.round((rejected / rows) * 1e6) / 1e6 : 0,
    max_reject_rate: o.maxRejectRate ?? params.validate.max_reject_rate,
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
  if (!m || Number(m[1]) >= Number(m[2])) throw new UsageError(`--shard must be K/N with 0 ≤ K < N, got "${text}"`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

const USAGE = `usage: npm run score:batch -- --input <csv|parquet|gs://…> --output <file.csv|gs://bucket/path.csv> [--stage production|staging] [--chunk N] [--shard K/N] [--registry URL] [--max-reject-rate R]
  score every row of --input with the registry's model at --stage; each output row has the source
  row, the prediction and the model version, or (rejected rows) the reasons instead
  --input SRC     CSV or Parquet file, gs://…, or vega-datasets:…
  --output DEST   CSV file or gs://bucket/path.csv
  --stage NAME    registry stage whose model scores (default: production)
  --chunk N       rows per chunk (default: 100000)
  --shard K/N     score every N-th chunk from K (default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS, else 0/1)
  --registry URL  the registry (default: $REGISTRY_URL, else params.yaml register.registry)
  --max-reject-rate R  fail when more than this share of rows is rejected (0–1; default: params.yaml
                  validate.max_reject_rate, the validate stage's limit)
prints {rows, scored, rejected, reject_rate, seconds, …} as JSON; the output file is written either way
example: npm run score:batch -- --input vega-datasets:data/flights-3m.parquet --output out/scores.csv --max-reject-rate 0.05
exit: 0 scored (rejects within --max-reject-rate), 1 failed, rejects above the rate or every row rejected, 2 usage error`;

export interface ScoreCliIo {
  /** Repository root (default: the current directory). */
  cwd?: string;
  log?: Logger;
  /** For --shard's defaults (default: process.env). */
  env?: Record<string, string | undefined>;
}

const cli = defineCli(
  {
    name: 'score:batch',
    usage: USAGE,
    options: {
      input: { type: 'string' },
      output: { type: 'string' },
      stage: { type: 'string', default: 'production' },
      chunk: { type: 'string', default: '100000' },
      shard: { type: 'string' },
      registry: { type: 'string' },
      'max-reject-rate': { type: 'string' },
    },
  },
  async ({ values }, io: ScoreCliIo & CliStreams) => {
    if (!values.input || !values.output) throw new UsageError(`${values.input ? '--output' : '--input'} is required`);
    const chunk = numberOption(values.chunk, 'chunk', { integer: true, min: 1 });
    const shard = parseShard(values.shard, io.env ?? process.env);
    const maxRejectRate =
      values['max-reject-rate'] === undefined
        ? undefined
        : numberOption(values['max-reject-rate'], 'max-reject-rate', { min: 0, max: 1 });
    const log = io.log ?? createLogger({ component: 'score:batch' });
    const started = Date.now();
    const result = await scoreBatch({
      input: values.input,
      output: values.output,
      stage: values.stage,
      chunk,
      shard,
      repoRoot: io.cwd ?? process.cwd(),
      log,
      registryUrl: values.registry,
      maxRejectRate,
    });
    io.stdout(JSON.stringify(result) + '\n');
    if (result.rows > 0 && result.scored === 0)
      throw new Error(
        `all ${result.rows} input rows were rejected, none scored; the reasons are in ${values.output} (its error column)`,
      );
    // A scheduled job whose input went bad must not look green: too many rejects fail the run.
    if (result.reject_rate > result.max_reject_rate)
      throw new Error(
        `${result.rejected} of ${result.rows} input rows were rejected (${(result.reject_rate * 100).toFixed(2)}%), more than the allowed ${(result.max_reject_rate * 100).toFixed(2)}%; the reasons are in ${values.output} (its error column). Fix the input, or raise --max-reject-rate (default: params.yaml validate.max_reject_rate)`,
      );
    log.info(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
);

/** Run the CLI in-process (tests): the exit code. */
export function main(argv: string[], io: ScoreCliIo & Partial<CliStreams> = {}): Promise<number> {
  return cli.run(argv, io);
}

if (isMain(import.meta.url)) await cli.main();

/** A multi-class row's cells: the most likely class, then every class's probability. */
function multiclassCells(classes: readonly string[], p: Float32Array): string {
  let best = 0;
  for (let c = 1; c < classes.length; c++) if (p[c] > p[best]) best = c;
  return [csvCell(classes[best]), ...Array.from(p, String)].join(',');
}
