/**
 * `npm run score:batch -- --input <csv|json|parquet|gs://…|vega-datasets:…> --output <file.csv|file.parquet|gs://…>
 * [--stage production|staging] [--chunk 100000] [--shard K/N]`: scores a file of any size with the
 * registry's model for that stage. Parquet is read in row ranges (bounded memory); every output row
 * carries the input row's number (not its columns), the prediction and the model version; invalid
 * rows get their reasons instead of a prediction. The output is CSV or Parquet by its extension. `--shard K/N` (or JOB_COMPLETION_INDEX + JOB_COMPLETIONS in a
 * Kubernetes Indexed Job) scores every N-th chunk starting at K, so pods split one input.
 * Exit 1 when every input row was rejected: a run that scored nothing must not look green.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { loadParams } from '../core/schemas/params.ts';
import { selectBackend } from '../core/model/tfjs-backend.ts';
import { loadBundle } from '../core/model/bundle.ts';
import { decisionThreshold, labelAt } from '../core/model/decision.ts';
import { openRegistry } from '../core/registry/index.ts';
import { bundledDatasetPath, isBundledDataset } from '../core/data/datasets.ts';
import { openParquet, openParquetTableWriter, readParquetTable } from '../core/data/parquet.ts';
import { ROW_COLUMN } from '../core/data/csv.ts';
import { readTextTable, textFormatOf } from '../core/data/json.ts';
import { validateTable } from '../core/data/validation.ts';
import { NumberColumnBuilder, sliceRows, StringColumnBuilder, type Column, type Table } from '../core/data/table.ts';
import { openStore } from '../core/platform/storage.ts';
import { requireCredentials, type CredentialCheckOptions } from '../core/platform/gcp-credentials.ts';
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
  /** How a gs:// --output checks for credentials before scoring (tests; default: this machine's). */
  credentials?: CredentialCheckOptions;
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The formats --output writes, by its extension. */
export const OUTPUT_FORMATS = ['csv', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The output's format from its extension (`.csv`, `.parquet`); any other: a UsageError naming both. */
export function outputFormat(output: string): OutputFormat {
  const ext = /\.([A-Za-z0-9]+)$/.exec(output)?.[1]?.toLowerCase();
  const format = OUTPUT_FORMATS.find((f) => f === ext);
  if (format) return format;
  throw new UsageError(
    `--output ${output}: the output is CSV or Parquet, chosen by its extension; end the path in .csv or .parquet`,
  );
}

/**
 * A local --input that is not there: say which path was looked for and what --input takes,
 * before any model is fetched (rather than a raw ENOENT from deep inside a reader).
 */
async function requireInputFile(input: string, path: string): Promise<void> {
  const found = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw err;
  });
  if (!found)
    throw new UsageError(
      `--input ${input}: no such file (looked for ${path}); pass a CSV, JSON or Parquet file, gs://bucket/object, or vega-datasets:<file>`,
    );
  if (found.isDirectory())
    throw new UsageError(`--input ${input}: ${path} is a directory; pass a CSV, JSON or Parquet file in it`);
}

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
  const format = outputFormat(o.output);
  // Before any scoring: an upload that cannot work would fail only once every row is scored.
  if (/^gs:\/\//.test(o.output)) await requireCredentials(`cannot write --output ${o.output}`, o.credentials);
  const local = !isBundledDataset(o.input) && !/^[a-z]+:\/\//.test(o.input);
  if (local) await requireInputFile(o.input, resolve(o.repoRoot, o.input));
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
  const finalPath = remote ? join(tmpdir(), `score-${process.pid}.${format}`) : resolve(o.repoRoot, o.output);
  const classification = bundle.meta.task === 'classification';
  // Multi-class: the label, then one probability column per class (in the model's class order).
  const classes = bundle.classes;
  const k = classes?.length ?? 1;
  const outputColumns = classes
    ? ['label', ...classes.map((c) => `probability_${c}`)]
    : classification
      ? ['probability', 'label']
      : ['value'];
  const model: ModelColumns = {
    name,
    version: version.version,
    classes,
    classification,
    threshold: decisionThreshold(bundle.meta),
  };
  const sink = await (format === 'parquet' ? parquetSink : csvSink)(finalPath, outputColumns, model);

  const started = performance.now();
  let peakRss = 0,
    rows = 0,
    scored = 0,
    rejected = 0;
  const scoreChunk = async (table: Table, firstRow: number) => {
    const result = validateTable(table, bundle.meta.input_schema);
    const valid = result.clean;
    const predictions = valid.length ? bundle.predictTable(valid) : new Float32Array(0);
    const bad = new Map(
      result.rejects.map((r) => [r.index, r.problems.map((p) => `${p.column}: ${p.reason}`).join('; ')]),
    );
    const rowCol = table.columns[ROW_COLUMN];
    const chunk: ScoredChunk = {
      length: table.length,
      sourceRow: new Float64Array(table.length),
      at: new Int32Array(table.length),
      error: new Array<string | null>(table.length),
      predictions,
      k,
    };
    let j = 0;
    for (let i = 0; i < table.length; i++) {
      chunk.sourceRow[i] = rowCol && rowCol.type !== 'string' ? rowCol.values[i] : firstRow + i + 1;
      const problem = bad.get(i);
      chunk.error[i] = problem ?? null;
      chunk.at[i] = problem ? -1 : j++;
      if (problem) rejected++;
      else scored++;
    }
    rows += table.length;
    await sink.write(chunk);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };

  try {
    const path = isBundledDataset(o.input)
      ? bundledDatasetPath(o.input)
      : !local
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
      // CSV and JSON have no random access: read once (columnar, compact), score in chunks.
      const { table } = await readTextTable(path, textFormatOf(path), {
        maxFieldBytes: params.validate.max_field_bytes,
      });
      const progress = createProgress('scoring', shardRows(table.length), { log: o.log });
      for (let start = o.shard.index * o.chunk; start < table.length; start += o.chunk * o.shard.count) {
        await scoreChunk(sliceRows(table, start, start + o.chunk), start);
        progress.update(rows);
      }
      progress.finish();
    }
    await sink.close();
  } catch (err) {
    await sink.abort();
    throw err;
  } finally {
    bundle.dispose();
  }
  if (remote) {
    const m = /^(gs:\/\/[^/]+)\/(.*)$/.exec(o.output)!;
    await openStore(m[1], o.repoRoot, { credentials: o.credentials }).putFile(m[2], finalPath);
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

const USAGE = `usage: npm run score:batch -- --input <csv|json|parquet|gs://…> --output <file.csv|file.parquet|gs://…> [--stage production|staging] [--chunk N] [--shard K/N] [--registry URL] [--max-reject-rate R]
  score every row of --input with the registry's model at --stage; one output row per input row:
  source_row (CSV input: its line number, the header being line 1; JSON: the record's position in
  its array from 1; Parquet: its row number from 1),
  the prediction (probability,label | label,probability_<class>… | prediction), model_name,
  model_version, and error (a rejected row's reasons, its prediction empty). The input's own
  columns are not copied: join on source_row
  --input SRC     CSV, JSON (an array of records) or Parquet file, gs://…, or vega-datasets:…
  --output DEST   a .csv or .parquet file, or gs://bucket/path.csv|.parquet (format by extension)
  --stage NAME    registry stage whose model scores (default: production)
  --chunk N       rows per chunk (default: 100000)
  --shard K/N     score every N-th chunk from K (default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS, else 0/1)
  --registry URL  the registry (default: $REGISTRY_URL, else params.yaml register.registry)
  --max-reject-rate R  fail when more than this share of rows is rejected (0–1; default: params.yaml
                  validate.max_reject_rate, the validate stage's limit)
prints {rows, scored, rejected, reject_rate, seconds, …} as JSON; the output file is written either way
example: npm run score:batch -- --input vega-datasets:data/flights-3m.parquet --output out/scores.csv --max-reject-rate 0.05
exit: 0 scored (rejects within --max-reject-rate; a shard that got no rows), 1 failed, rejects above the rate or every row rejected, 2 usage error, 3 the input has no rows`;

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
    if (result.rows === 0) {
      // One shard of many may get nothing (the input is cut into --chunk-row pieces); a whole
      // input with no rows is an empty or truncated file, which a scheduled job must not pass over.
      if (shard.count > 1) {
        log.warn(
          `shard ${shard.index}/${shard.count} got no rows: the input is cut into pieces of ${chunk} rows and there are fewer pieces than shards; a smaller --chunk spreads it`,
        );
        return 0;
      }
      io.stderr(
        `score:batch: ${values.input} has no rows: nothing scored (exit 3, so a scheduled run over an empty or truncated input does not pass as done)\n`,
      );
      return 3;
    }
    if (result.scored === 0)
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
  return [csvCell(classes[argmax(p)]), ...Array.from(p, String)].join(',');
}

/** One chunk's answers: per input row its source row, and its index into `predictions` (-1: rejected, see `error`). */
export interface ScoredChunk {
  length: number;
  sourceRow: Float64Array;
  at: Int32Array;
  error: (string | null)[];
  /** k outputs per scored row. */
  predictions: Float32Array;
  k: number;
}

interface ScoreSink {
  write(chunk: ScoredChunk): Promise<void>;
  /** Finish the file and move it into place. */
  close(): Promise<void>;
  /** Remove the partial file; the target is untouched. */
  abort(): Promise<void>;
}

export interface ModelColumns {
  name: string;
  version: number;
  classes: readonly string[] | undefined;
  classification: boolean;
  threshold: number;
}

/** CSV: written as the chunks come, to a temporary sibling renamed into place on close. */
export async function csvSink(path: string, outputColumns: string[], m: ModelColumns): Promise<ScoreSink> {
  const tmp = tempSiblingPath(path);
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(tmp);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const emptyOutputs = ','.repeat(outputColumns.length - 1);
  await write(`source_row,${outputColumns.map(csvCell).join(',')},model_name,model_version,error\n`);
  return {
    async write(c) {
      let text = '';
      for (let i = 0; i < c.length; i++) {
        const at = c.at[i];
        if (at < 0) {
          text += `${c.sourceRow[i]},${emptyOutputs},${m.name},${m.version},${csvCell(c.error[i] ?? '')}\n`;
          continue;
        }
        const outputs = m.classes
          ? multiclassCells(m.classes, c.predictions.subarray(at * c.k, (at + 1) * c.k))
          : m.classification
            ? `${c.predictions[at]},${labelAt(c.predictions[at], m.threshold)}`
            : `${c.predictions[at]}`;
        text += `${c.sourceRow[i]},${outputs},${m.name},${m.version},\n`;
      }
      await write(text);
    },
    async close() {
      out.end();
      await once(out, 'close');
      await rename(tmp, path);
    },
    async abort() {
      out.destroy();
      await rm(tmp, { force: true });
    },
  };
}

/**
 * Parquet: the same columns as the CSV (numbers as DOUBLE, the multi-class label and the texts as
 * STRING, empty cells as nulls), streamed a row group at a time by the project's Parquet writer.
 */
export async function parquetSink(path: string, outputColumns: string[], m: ModelColumns): Promise<ScoreSink> {
  const writer = await openParquetTableWriter(path);
  return {
    write(c) {
      const n = c.length;
      const numbers = () => new Float64Array(n).fill(NaN);
      const outputs: Record<string, Column> = {};
      if (m.classes) {
        const label = new StringColumnBuilder(n);
        const probs = m.classes.map(numbers);
        for (let i = 0; i < n; i++) {
          const at = c.at[i];
          if (at < 0) {
            label.push(null);
            continue;
          }
          const p = c.predictions.subarray(at * c.k, (at + 1) * c.k);
          label.push(m.classes[argmax(p)]);
          for (let j = 0; j < p.length; j++) probs[j][i] = p[j];
        }
        outputs[outputColumns[0]] = label.finish();
        probs.forEach((values, j) => (outputs[outputColumns[j + 1]] = { type: 'number', values }));
      } else {
        const value = numbers();
        const label = numbers();
        for (let i = 0; i < n; i++) {
          const at = c.at[i];
          if (at < 0) continue;
          value[i] = c.predictions[at];
          if (m.classification) label[i] = labelAt(c.predictions[at], m.threshold);
        }
        outputs[outputColumns[0]] = { type: 'number', values: value };
        if (m.classification) outputs[outputColumns[1]] = { type: 'number', values: label };
      }
      const modelName = new StringColumnBuilder(n);
      const error = new StringColumnBuilder(n);
      for (let i = 0; i < n; i++) {
        modelName.push(m.name);
        error.push(c.error[i]);
      }
      const versions = new NumberColumnBuilder('number', n);
      for (let i = 0; i < n; i++) versions.push(m.version);
      writer.append({
        length: n,
        columns: {
          source_row: { type: 'number', values: c.sourceRow },
          ...outputs,
          model_name: modelName.finish(),
          model_version: versions.finish(),
          error: error.finish(),
        },
      });
      return Promise.resolve();
    },
    close: () => writer.close(),
    abort: () => writer.abort(),
  };
}

function argmax(p: Float32Array): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
  return best;
}
