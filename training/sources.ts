/**
 * Record sources for ingestion: the bundled flights Parquet, a local CSV/Parquet/JSON path, an https://
 * URL or a gs:// object. Remote sources are downloaded once into a cache, then read like files.
 */
import { extname, join, resolve } from 'node:path';
import { open, stat } from 'node:fs/promises';
import { bundledDatasetPath, isBundledDataset } from '../core/data/datasets.ts';
import {
  openParquet,
  readParquetRowGroups,
  readParquetTable,
  rowGroupRanges,
  type ParquetSource,
} from '../core/data/parquet.ts';
import { ROW_COLUMN } from '../core/data/csv.ts';
import { readTextTable } from '../core/data/json.ts';
import { sliceRows, type Column, type ColumnType, type Table } from '../core/data/table.ts';
import { parseTimestamp } from '../core/platform/time.ts';
import type { Logger } from '../core/platform/log.ts';
import { materializeSource } from '../core/data/materialize.ts';

export type SourceFormat = 'csv' | 'parquet' | 'json';

export interface SourceFingerprint {
  uri: string;
  format: SourceFormat;
  size: number;
  rows: number;
  etag?: string;
}

export interface RecordSource {
  fingerprint: SourceFingerprint;
  rows: number;
  columns: { name: string; type: ColumnType }[];
  /** The time column in source order, as epoch ms (NaN where unparseable or missing). */
  readTimes(column: string): Promise<Float64Array>;
  /** Source rows [start, end) with `__row` (1-based record number or CSV line). */
  readRange(start: number, end: number): Promise<Table>;
  /**
   * The same rows in pieces, in order: a Parquet source yields one row group at a time, so a reader
   * holds one group, not the range. With `columns`, only those (and no `__row`).
   */
  readChunks(start: number, end: number, columns?: string[]): AsyncGenerator<Table>;
}

export function detectFormat(uri: string, declared: 'auto' | SourceFormat): SourceFormat {
  if (declared !== 'auto') return declared;
  const ext = extname(uri.split(/[?#]/)[0]).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.json') return 'json';
  throw new Error(
    `cannot tell the format of ${uri} from its extension; set data.format to csv, parquet or json in params.yaml`,
  );
}

/**
 * The file's first bytes against the format it is about to be read as: a Parquet file read as CSV
 * would show its binary header as one column name, and text read as Parquet a decoder error.
 */
async function checkFormatMatches(uri: string, path: string, format: SourceFormat, declared: 'auto' | SourceFormat) {
  const head = Buffer.alloc(4);
  const file = await open(path, 'r').catch(() => null);
  if (!file) return; // not a readable file: the reader says so
  let n: number;
  try {
    ({ bytesRead: n } = await file.read(head, 0, 4, 0));
  } finally {
    await file.close();
  }
  const parquet = n === 4 && head.toString('latin1') === 'PAR1';
  if (parquet === (format === 'parquet') || n === 0) return;
  const how =
    declared === 'auto' ? `by its extension ${extname(uri.split(/[?#]/)[0]) || '(none)'}` : `data.format: ${format}`;
  throw new Error(
    parquet
      ? `${uri} is a Parquet file (it starts with PAR1), but would be read as ${format.toUpperCase()} (${how}); set data.format: parquet in params.yaml, or give the file a .parquet name`
      : `${uri} is not a Parquet file (it does not start with PAR1), but would be read as Parquet (${how}); set data.format to csv or json in params.yaml, or give the file the extension of what it holds`,
  );
}

/** Where a source's bytes are on this machine (remote sources are downloaded into the cache first). */
async function locateSource(
  uri: string,
  options: { repoRoot: string; log: Logger },
): Promise<{ path: string; size: number; etag?: string }> {
  let path: string;
  let etag: string | undefined;
  if (isBundledDataset(uri)) {
    path = bundledDatasetPath(uri);
  } else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    path = resolve(options.repoRoot, uri);
  } else {
    const got = await materializeSource(uri, {
      cacheDir: join(options.repoRoot, '.pipeline', 'source-cache'),
      log: options.log,
      baseDir: options.repoRoot,
    });
    path = got.path;
    etag = got.fingerprint.etag;
  }
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory())
      throw new Error(
        `data source ${uri} is a folder (${path}); name one file in it (CSV, Parquet or JSON) in data.source in params.yaml`,
      );
    size = st.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
    throw new Error(`data source ${uri} not found (looked at ${path}); fix data.source in params.yaml`, { cause: err });
  }
  return { path, size, ...(etag ? { etag } : {}) };
}

export async function openSource(
  uri: string,
  declaredFormat: 'auto' | SourceFormat,
  options: { repoRoot: string; log: Logger; maxFieldBytes: number },
): Promise<RecordSource> {
  const { path, size, etag } = await locateSource(uri, options);
  const format = detectFormat(uri, declaredFormat);
  await checkFormatMatches(uri, path, format, declaredFormat);
  return format === 'parquet'
    ? openParquetSource(uri, path, size, etag)
    : openTextSource(format, uri, path, size, etag, options);
}

/** The cell has a value (a validate rule's "missing" is no value, or only whitespace). */
function filledCount(c: Column | undefined): number {
  if (!c) return 0;
  let n = 0;
  if (c.type !== 'string') {
    for (const v of c.values) if (!Number.isNaN(v)) n++;
    return n;
  }
  const blank = c.dict.map((v) => v.trim() === '');
  for (const code of c.codes) if (code >= 0 && !blank[code]) n++;
  return n;
}

/**
 * A CSV or JSON source up to this size is read whole to confirm that a column empty in the first
 * records is empty in every one (about 0.1 s a MiB); only then, so a filled source pays nothing.
 */
export const CONFIRM_TEXT_BYTES = 16 * 1024 * 1024;

/** Required columns that hold no value: in every record (`everyRecord`) or only as far as `rows` records were read. */
export interface UnfilledColumns {
  names: string[];
  rows: number;
  everyRecord: boolean;
}

/**
 * A source's columns and its first `rows` records, read without loading the whole file (a CSV's
 * values are text). With `required`, those of its columns that hold no value in the first records
 * are looked for in the rest (a Parquet source: only those columns, until each shows a value; a
 * text source up to CONFIRM_TEXT_BYTES: read whole), so `unfilled` says what the data proves.
 */
export async function peekSource(
  uri: string,
  declaredFormat: 'auto' | SourceFormat,
  options: { repoRoot: string; log: Logger; maxFieldBytes: number; rows?: number; required?: string[] },
): Promise<{
  columns: { name: string; type: ColumnType }[];
  sample: Table;
  whole: boolean;
  unfilled?: UnfilledColumns;
}> {
  const { path, size } = await locateSource(uri, options);
  const format = detectFormat(uri, declaredFormat);
  await checkFormatMatches(uri, path, format, declaredFormat);
  const rows = options.rows ?? 200;
  let peek: { columns: { name: string; type: ColumnType }[]; sample: Table; whole: boolean };
  let pq: ParquetSource | undefined;
  if (format === 'parquet') {
    pq = await openParquet(path);
    peek = {
      columns: pq.columns,
      sample: await readParquetTable(pq, { rowStart: 0, rowEnd: Math.min(rows, pq.rows) }),
      whole: pq.rows <= rows,
    };
  } else {
    const { table, header } = await readTextTable(path, format, {
      maxFieldBytes: options.maxFieldBytes,
      maxRows: rows,
    });
    peek = {
      columns: header.map((name) => ({ name, type: 'string' as const })),
      sample: table,
      whole: table.length < rows, // maxRows stopped short of `rows`: the file ended
    };
  }
  const suspects = (options.required ?? []).filter(
    (c) => peek.sample.columns[c] && peek.sample.length > 0 && filledCount(peek.sample.columns[c]) === 0,
  );
  if (!suspects.length) return peek;
  if (peek.whole) return { ...peek, unfilled: { names: suspects, rows: peek.sample.length, everyRecord: true } };
  const empty = new Set(suspects);
  if (pq) {
    for await (const group of readParquetRowGroups(pq, { columns: suspects })) {
      for (const c of empty) if (filledCount(group.columns[c]) > 0) empty.delete(c);
      if (!empty.size) break;
    }
    return empty.size ? { ...peek, unfilled: { names: [...empty], rows: pq.rows, everyRecord: true } } : peek;
  }
  if (format === 'parquet' || size > CONFIRM_TEXT_BYTES)
    return { ...peek, unfilled: { names: suspects, rows: peek.sample.length, everyRecord: false } };
  const { table } = await readTextTable(path, format, { maxFieldBytes: options.maxFieldBytes });
  for (const c of suspects) if (filledCount(table.columns[c]) > 0) empty.delete(c);
  return empty.size ? { ...peek, unfilled: { names: [...empty], rows: table.length, everyRecord: true } } : peek;
}

async function openParquetSource(
  uri: string,
  path: string,
  size: number,
  etag: string | undefined,
): Promise<RecordSource> {
  const pq: ParquetSource = await openParquet(path);
  return {
    fingerprint: { uri, format: 'parquet', size, rows: pq.rows, ...(etag ? { etag } : {}) },
    rows: pq.rows,
    columns: pq.columns,
    async readTimes(column) {
      const t = await readParquetTable(pq, { columns: [requireColumn(pq.columns, column, uri)] });
      return timesOf(t.columns[column]);
    },
    readRange: (start, end) => readNumbered(start, end),
    async *readChunks(start, end, columns) {
      if (columns) for (const c of columns) requireColumn(pq.columns, c, uri);
      for (const [groupStart, groupEnd] of rowGroupRanges(pq)) {
        const from = Math.max(start, groupStart);
        const to = Math.min(end, groupEnd);
        if (from >= to) continue;
        yield columns
          ? await readParquetTable(pq, { rowStart: from, rowEnd: to, columns })
          : await readNumbered(from, to);
      }
    },
  };

  async function readNumbered(start: number, end: number): Promise<Table> {
    const t = await readParquetTable(pq, { rowStart: start, rowEnd: end });
    const rowNumbers = new Float64Array(t.length);
    for (let i = 0; i < t.length; i++) rowNumbers[i] = start + i + 1;
    t.columns[ROW_COLUMN] = { type: 'number', values: rowNumbers };
    return t;
  }
}

/** A CSV or JSON source: read whole into raw strings (typed later by validate, with the schema). */
async function openTextSource(
  format: 'csv' | 'json',
  uri: string,
  path: string,
  size: number,
  etag: string | undefined,
  options: { log: Logger; maxFieldBytes: number },
): Promise<RecordSource> {
  options.log.info(`reading ${format.toUpperCase()} ${uri}`, { bytes: size });
  const { table, header } = await readTextTable(path, format, { maxFieldBytes: options.maxFieldBytes });
  const columns = [
    ...header.map((name) => ({ name, type: 'string' as ColumnType })), // eslint-disable-line @typescript-eslint/no-unnecessary-type-assertion -- widens the literal for the array's element type
    { name: ROW_COLUMN, type: 'number' as ColumnType },
  ];
  return {
    fingerprint: { uri, format, size, rows: table.length, ...(etag ? { etag } : {}) },
    rows: table.length,
    columns,
    readTimes(column) {
      // The executor keeps an unknown column a rejection, not a throw.
      return new Promise<Float64Array>((resolve) => {
        requireColumn(columns, column, uri);
        resolve(timesOf(table.columns[column]));
      });
    },
    readRange(start, end) {
      return Promise.resolve(sliceRows(table, start, end));
    },
    // The text was read whole already (CSV/JSON have no row groups to seek to): one piece.
    async *readChunks(start, end, only) {
      const part = sliceRows(table, start, end);
      for (const c of only ?? []) requireColumn(columns, c, uri);
      yield await Promise.resolve(
        only ? { length: part.length, columns: Object.fromEntries(only.map((c) => [c, part.columns[c]])) } : part,
      );
    },
  };
}

function requireColumn(columns: { name: string }[], column: string, uri: string): string {
  if (!columns.some((c) => c.name === column)) {
    throw new Error(
      `time column "${column}" (data.time_column in params.yaml) is not in ${uri}; its columns are: ${columns.map((c) => c.name).join(', ')}`,
    );
  }
  return column;
}

/** Epoch ms for any column type: timestamps as is, numbers as epoch ms, strings parsed. */
export function timesOf(c: Column): Float64Array {
  if (c.type !== 'string') return c.values;
  const parsedDict = c.dict.map(parseTimestamp);
  const out = new Float64Array(c.codes.length);
  for (let i = 0; i < out.length; i++) out[i] = c.codes[i] < 0 ? NaN : parsedDict[c.codes[i]];
  return out;
}
