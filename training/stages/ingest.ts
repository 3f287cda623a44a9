/**
 * Stage `ingest`: append the next batches of records, in time order, to the raw store `data/`
 * (Parquet batch files + manifest.json), then record the new state in `data.dvc` as `dvc add`
 * would. The raw store only grows; a run with the cap already reached changes nothing. The bytes
 * are a pure function of (source, params): no run timestamps, so every machine that ingests the
 * same batches gets the same data.dvc md5 (the git history of data.dvc says when data arrived).
 *
 * It is not a dvc.yaml stage because DVC forbids one path being both a stage output and tracked
 * by a .dvc file; like DVC's example-get-started, the pipeline starts from the tracked data.
 */
import { join } from 'node:path';
import { ROW_ORDER, type Params } from '../../core/schemas/params.ts';
import { exists, writeJsonAtomic } from '../../core/platform/atomic.ts';
import { writeParquetTable } from '../../core/data/parquet.ts';
import { concatTables, stableArgsort, sliceRows, takeRows, type Table } from '../../core/data/table.ts';
import { formatOrderValue } from '../../core/platform/time.ts';
import { createProgress } from '../../core/platform/progress.ts';
import { createLogger, type Logger } from '../../core/platform/log.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli, UsageError } from '../../core/platform/cli.ts';
import { openSource, timesOf, type RecordSource, type SourceFingerprint } from '../sources.ts';
import { MANIFEST_FILE, RAW_DIR } from '../contracts/paths.ts';
import { readManifest, type RawManifest } from '../contracts/raw-store.ts';
import { checkRebuilt, reconcileStore, recordedWithoutStore } from './ingest-repair.ts';
import { preflight } from '../preflight.ts';

export { MANIFEST_FILE, RAW_DIR } from '../contracts/paths.ts';
export { readManifest, type RawManifest } from '../contracts/raw-store.ts';

export interface IngestOptions {
  repoRoot: string;
  params: Params;
  log: Logger;
  /** Overrides of params.ingest (CLI flags). */
  maxBatches?: number;
  batchesPerRun?: number;
  /**
   * Add the next batches whatever the store's cap (ingest.max_batches) says: the scheduled and
   * alert-triggered retrains, which exist to train on the data that arrived since.
   */
  grow?: boolean;
  /** Records the raw store's new version (default: `dvc add data`, writing data.dvc). */
  track?: (dir: string) => Promise<void>;
}

export interface IngestResult {
  added: number;
  batches: number;
  rows: number;
  sourceRows: number;
  lastTime: string | null;
}

export async function ingest(options: IngestOptions): Promise<IngestResult> {
  const recorded = await recordedWithoutStore(options.repoRoot, await readManifest(options.repoRoot));
  if (recorded === null) return ingestOnce(options);
  // data/ is missing but data.dvc records a version: rebuild what a first ingest with params.yaml's
  // settings writes, and keep it only if it is that version. Then this run goes on as it would
  // have on the fetched store (its flags, --grow, may add batches; a smaller --max-batches adds none).
  await ingestOnce({ ...options, grow: false, maxBatches: undefined, batchesPerRun: undefined, track: async () => {} });
  await checkRebuilt(options.repoRoot, recorded, await readManifest(options.repoRoot), options.log);
  await track(options);
  return ingestOnce(options);
}

async function ingestOnce(options: IngestOptions): Promise<IngestResult> {
  const { repoRoot, params, log } = options;
  const batchSize = params.ingest.batch_size;
  const cap = options.maxBatches ?? params.ingest.max_batches;
  const perRunSetting = options.batchesPerRun ?? params.ingest.batches_per_run;
  const perRun = perRunSetting === 0 ? Number.MAX_SAFE_INTEGER : perRunSetting;
  const source = await openSource(params.data.source, params.data.format, {
    repoRoot,
    log,
    maxFieldBytes: params.validate.max_field_bytes,
  });
  if (source.rows === 0)
    throw new Error(
      `data.source ${params.data.source} has no records (a header or schema only): nothing to ingest or train on; point data.source in params.yaml at a file with rows`,
    );
  const manifest = await readManifest(repoRoot);
  checkCompatible(manifest, source.fingerprint, params, batchSize);
  await reconcileStore(repoRoot, manifest, () => track(options), log);

  const complete = (manifest?.batches ?? []).filter((b) => b.rows === batchSize);
  const partial = manifest && manifest.batches.length > complete.length ? manifest.batches.at(-1) : undefined;
  const start = complete.length ? complete.at(-1)!.range[1] : 0;
  const available = Math.max(0, source.rows - start);
  const sourceBatches = Math.ceil(source.rows / batchSize);
  const limit = cap === 0 || options.grow ? sourceBatches : Math.min(cap, sourceBatches);
  let toWrite = Math.max(
    0,
    Math.min(perRun + (partial ? 1 : 0), limit - complete.length, Math.ceil(available / batchSize)),
  );
  // A trailing partial batch is only rewritten when the source now has more rows for it.
  if (partial && toWrite > 0 && available <= partial.rows) toWrite = 0;

  if (toWrite === 0) {
    const have = manifest?.batches ?? [];
    log.info(
      `nothing to ingest: raw store has ${have.length} batch(es), ${have.reduce((s, b) => s + b.rows, 0)} records`,
      {
        cap: cap === 0 || options.grow ? 'all' : cap,
        source_rows: source.rows,
      },
    );
    return summarize(manifest, 0, source.rows);
  }

  const end = Math.min(source.rows, start + toWrite * batchSize);
  const next: RawManifest = {
    format: 1,
    source: source.fingerprint,
    time_column: params.data.time_column,
    batch_size: batchSize,
    batches: [...complete],
  };
  const lastIngested = complete.at(-1)?.last_time;
  const progress = createProgress('ingest', end - start, { log, unit: 'records' });
  let pos = start;
  const writeBatch = async (batch: Table) => {
    const file = `batch-${String(next.batches.length).padStart(6, '0')}.parquet`;
    const bt = timesOf(batch.columns[params.data.time_column]);
    if (pos === start && lastIngested && bt.length && bt[0] < Date.parse(lastIngested)) {
      log.warn(
        `the source has records older than the last ingested batch (${lastIngested}); they arrive late and are appended in the next batch`,
      );
    }
    await writeParquetTable(join(repoRoot, RAW_DIR, file), batch);
    next.batches.push({
      file,
      rows: batch.length,
      range: [pos, pos + batch.length],
      first_time: formatOrderValue(minFinite(bt), params.data.time_column === ROW_ORDER),
      last_time: formatOrderValue(maxFinite(bt), params.data.time_column === ROW_ORDER),
    });
    // The manifest is rewritten after every batch so an interrupted run resumes where it stopped.
    await writeJsonAtomic(join(repoRoot, RAW_DIR, MANIFEST_FILE), next);
    pos += batch.length;
    progress.update(pos - start);
  };
  // Cut the ordered records into batches as they stream past: at most one source piece and one
  // batch's remainder are held.
  let rest: Table | null = null;
  for await (const piece of inTimeOrder(source, params.data.time_column, start, end, log)) {
    const pending: Table = rest && rest.length ? concatTables([rest, piece]) : piece;
    let at = 0;
    for (; pending.length - at >= batchSize; at += batchSize) await writeBatch(sliceRows(pending, at, at + batchSize));
    rest = at < pending.length ? sliceRows(pending, at, pending.length) : null;
  }
  if (rest?.length) await writeBatch(rest);
  progress.finish();
  const added = next.batches.length - complete.length - (partial ? 1 : 0);
  log.info(`ingested ${end - start} records into ${next.batches.length - complete.length} batch file(s)`, {
    batches_total: next.batches.length,
    first: next.batches[complete.length]?.first_time,
    last: next.batches.at(-1)?.last_time,
  });
  await track(options);
  return summarize(next, Math.max(added, 0), source.rows);
}

function checkCompatible(manifest: RawManifest | null, fp: SourceFingerprint, params: Params, batchSize: number): void {
  if (!manifest) return;
  const fix = `Either restore params.yaml, or move ${RAW_DIR}/ and data.dvc aside to start a new raw store.`;
  if (manifest.source.uri !== fp.uri)
    throw new Error(
      `the raw store ${RAW_DIR}/ was filled from ${manifest.source.uri} but data.source is now ${fp.uri}. ${fix}`,
    );
  if (manifest.batch_size !== batchSize)
    throw new Error(
      `the raw store uses batches of ${manifest.batch_size} records but ingest.batch_size is now ${batchSize}. ${fix}`,
    );
  if (manifest.time_column !== params.data.time_column)
    throw new Error(
      `the raw store is ordered by "${manifest.time_column}" but data.time_column is now "${params.data.time_column}". ${fix}`,
    );
  const ingested = manifest.batches.length ? manifest.batches.at(-1)!.range[1] : 0;
  if (fp.rows < ingested)
    throw new Error(
      `the source ${fp.uri} has ${fp.rows} records but ${ingested} were already ingested from it; a source may only grow. ${fix}`,
    );
}

/**
 * Source rows [start, end) in time order. A source already in time order (the bundled flights, any
 * log-shaped file) is read piece by piece, so memory does not grow with its size; checking that
 * takes one streamed pass over the time column. Otherwise the whole source is read and sorted.
 */
async function* inTimeOrder(
  source: RecordSource,
  timeColumn: string,
  start: number,
  end: number,
  log: Logger,
): AsyncGenerator<Table> {
  if (await isTimeOrdered(source, timeColumn)) {
    yield* source.readChunks(start, end);
    return;
  }
  log.info(`the source is not in ${timeColumn} order: reading all ${source.rows} records to order them`);
  const order = stableArgsort(await source.readTimes(timeColumn));
  yield takeRows(await source.readRange(0, source.rows), order.subarray(start, end));
}

/** Whether stableArgsort would keep the source's order: times never decrease, missing ones only at the end. */
async function isTimeOrdered(source: RecordSource, timeColumn: string): Promise<boolean> {
  let previous: number | undefined;
  for await (const piece of source.readChunks(0, source.rows, [timeColumn])) {
    for (const t of timesOf(piece.columns[timeColumn])) {
      if (previous !== undefined && (t < previous || (Number.isNaN(previous) && !Number.isNaN(t)))) return false;
      previous = t;
    }
  }
  return true;
}

async function track(options: IngestOptions): Promise<void> {
  const { repoRoot, log } = options;
  if (!(await exists(join(repoRoot, RAW_DIR, MANIFEST_FILE)))) return;
  const tracker =
    options.track ??
    (async (dir: string) => void (await (await import('../../core/dvc/add.ts')).dvcAdd(dir, { repoRoot, log })));
  await tracker(RAW_DIR);
  log.info(`updated data.dvc (commit it with git so this data version is recorded)`);
}

function summarize(manifest: RawManifest | null, added: number, sourceRows: number): IngestResult {
  const batches = manifest?.batches ?? [];
  return {
    added,
    batches: batches.length,
    rows: batches.reduce((s, b) => s + b.rows, 0),
    sourceRows,
    lastTime: batches.at(-1)?.last_time ?? null,
  };
}

function minFinite(a: Float64Array): number {
  let m = Infinity;
  for (const v of a) if (v < m) m = v;
  return m === Infinity ? NaN : m;
}
function maxFinite(a: Float64Array): number {
  let m = -Infinity;
  for (const v of a) if (v > m) m = v;
  return m === -Infinity ? NaN : m;
}

/** A batch count flag: a whole number, or "all" (0); anything else is a usage error. */
export function parseBatchCount(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'all') return 0;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new UsageError(`--${flag} must be a whole number or "all", got "${value}"`);
  return n;
}

const USAGE = `usage: npm run ingest -- [--max-batches N|all | --grow] [--batches-per-run N|all] [--params params.yaml]
  append the next batches of the source (params.yaml data:) to the raw store data/ and record it in data.dvc
  --max-batches N      stop when the raw store holds N batches (default: ingest.max_batches)
  --grow               add the next batches even when the store holds ingest.max_batches already
                       (what the scheduled and alert-triggered retrains do: train on what arrived)
  --batches-per-run N  add at most N batches in this run (default: ingest.batches_per_run)
example: npm run ingest -- --grow --batches-per-run 1
  --params FILE        the parameters file (default: params.yaml)
exit: 0 ingested (or nothing new), 1 failed, 2 usage error`;

if (isMain(import.meta.url)) {
  await defineCli(
    {
      name: 'ingest',
      usage: USAGE,
      options: {
        'max-batches': { type: 'string' },
        'batches-per-run': { type: 'string' },
        grow: { type: 'boolean', default: false },
        params: { type: 'string', default: 'params.yaml' },
      },
    },
    async ({ values }) => {
      const maxBatches = parseBatchCount(values['max-batches'], 'max-batches');
      const perRun = parseBatchCount(values['batches-per-run'], 'batches-per-run');
      if (values.grow && maxBatches !== undefined)
        throw new UsageError('--grow and --max-batches contradict each other: --grow ignores the cap; pass one');
      const log = createLogger({ component: 'ingest' });
      const started = Date.now();
      const repoRoot = process.cwd();
      const params = await preflight({ repoRoot, paramsPath: values.params, against: 'source', log });
      await ingest({ repoRoot, params, log, maxBatches, batchesPerRun: perRun, grow: values.grow === true });
      log.info(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
  ).main();
}
