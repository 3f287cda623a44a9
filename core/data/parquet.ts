/**
 * Parquet ⇄ columnar Table. Reading goes through hyparquet (+ ZSTD etc. from
 * hyparquet-compressors); writing through hyparquet-writer. Timestamps are read as epoch
 * milliseconds directly (no Date objects per row) to keep 3M-row reads fast and small.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, type FileMetaData, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ByteWriter, ParquetWriter, parquetWriteBuffer, schemaFromColumnData } from 'hyparquet-writer';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../platform/atomic.ts';
import { tempSiblingPath } from '../platform/temp-files.ts';
import { MISSING_CODE, StringColumnBuilder, concatTables, sliceRows, type Column, type ColumnType, type Table } from './table.ts';

const parsers = {
  timestampFromMilliseconds: (v: bigint) => Number(v),
  timestampFromMicroseconds: (v: bigint) => Number(v) / 1000,
  timestampFromNanoseconds: (v: bigint) => Number(v) / 1e6,
  dateFromDays: (d: number) => d * 86_400_000,
};

export interface ParquetSource {
  file: AsyncBuffer;
  metadata: FileMetaData;
  rows: number;
  columns: { name: string; type: ColumnType }[];
}

export async function openParquet(path: string): Promise<ParquetSource> {
  let file: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw new Error(`${path} is not a readable Parquet file (${(err as Error).message}); check the path and that the file is complete`, { cause: err });
  }
  const columns = metadata.schema.slice(1).filter((s) => !s.num_children).map((s) => ({ name: s.name, type: parquetColumnType(s) }));
  return { file, metadata, rows: Number(metadata.num_rows), columns };
}

function parquetColumnType(s: FileMetaData['schema'][number]): ColumnType {
  const logical = s.logical_type?.type;
  const converted = s.converted_type;
  if (logical === 'TIMESTAMP' || logical === 'DATE' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || converted === 'DATE' || s.type === 'INT96') return 'timestamp';
  if (s.type === 'BYTE_ARRAY' || s.type === 'FIXED_LEN_BYTE_ARRAY') return 'string';
  return 'number';
}

/** Read rows [rowStart, rowEnd) of the chosen columns into typed columns. */
export async function readParquetTable(source: ParquetSource | string, options: { columns?: string[]; rowStart?: number; rowEnd?: number } = {}): Promise<Table> {
  const src = typeof source === 'string' ? await openParquet(source) : source;
  const rowStart = options.rowStart ?? 0;
  const rowEnd = Math.min(options.rowEnd ?? src.rows, src.rows);
  const length = Math.max(0, rowEnd - rowStart);
  const wanted = options.columns ?? src.columns.map((c) => c.name);
  const types = new Map(src.columns.map((c) => [c.name, c.type]));
  for (const name of wanted) {
    if (!types.has(name)) throw new Error(`column "${name}" not found in Parquet file; it has: ${src.columns.map((c) => c.name).join(', ')}`);
  }
  const numeric = new Map<string, Float64Array>();
  const strings = new Map<string, { codes: Int32Array; builder: StringColumnBuilder }>();
  for (const name of wanted) {
    if (types.get(name) === 'string') strings.set(name, { codes: new Int32Array(length).fill(MISSING_CODE), builder: new StringColumnBuilder(16) });
    else numeric.set(name, new Float64Array(length).fill(NaN));
  }
  if (length === 0) return assemble();

  await parquetRead({
    file: src.file,
    metadata: src.metadata,
    columns: wanted,
    rowStart,
    rowEnd,
    compressors,
    parsers,
    onChunk(chunk) {
      // Chunks may extend beyond the requested range; copy only the overlap.
      const from = Math.max(chunk.rowStart, rowStart);
      const to = Math.min(chunk.rowEnd, rowEnd);
      const data = chunk.columnData as ArrayLike<unknown>;
      const num = numeric.get(chunk.columnName);
      if (num) {
        for (let r = from; r < to; r++) num[r - rowStart] = toNumber(data[r - chunk.rowStart]);
        return;
      }
      const str = strings.get(chunk.columnName);
      if (!str) return;
      let lastValue: unknown = undefined;
      let lastCode = MISSING_CODE;
      for (let r = from; r < to; r++) {
        const v = data[r - chunk.rowStart];
        // Dictionary pages repeat the same string objects; skip the map lookup for runs.
        if (v !== lastValue) {
          lastValue = v;
          lastCode = v === null || v === undefined ? MISSING_CODE : str.builder.intern(cellText(v));
        }
        str.codes[r - rowStart] = lastCode;
      }
    },
  });
  return assemble();

  function assemble(): Table {
    const columns: Record<string, Column> = {};
    for (const name of wanted) {
      const type = types.get(name)!;
      if (type === 'string') {
        const s = strings.get(name)!;
        columns[name] = { type: 'string', codes: s.codes, dict: s.builder.dict };
      } else {
        columns[name] = { type, values: numeric.get(name)! };
      }
    }
    return { length, columns };
  }
}

/** Row ranges [start, end) of the file's row groups, in order: the unit a streaming reader decodes at a time. */
export function rowGroupRanges(source: ParquetSource): [number, number][] {
  const out: [number, number][] = [];
  let at = 0;
  for (const g of source.metadata.row_groups) {
    const n = Number(g.num_rows);
    out.push([at, at + n]);
    at += n;
  }
  return out;
}

/** The rows of a Parquet file one row group at a time, so a reader holds one group, not the file. */
export async function* readParquetRowGroups(source: ParquetSource | string, options: { columns?: string[] } = {}): AsyncGenerator<Table & { rowStart: number }> {
  const src = typeof source === 'string' ? await openParquet(source) : source;
  for (const [rowStart, rowEnd] of rowGroupRanges(src)) yield { ...(await readParquetTable(src, { ...options, rowStart, rowEnd })), rowStart };
}

/**
 * A non-null cell of a byte-array column as text: UTF-8 strings as they are; anything else hyparquet
 * decodes there (raw bytes, a decimal) deliberately as String() prints it.
 */
function cellText(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  if (v === null || v === undefined) return NaN;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

/** Rows per row group of every Parquet file the project writes (readers stream a group at a time). */
export const ROW_GROUP_SIZE = 250_000;

function columnDataOf(table: Table) {
  return Object.entries(table.columns).map(([name, c]) => {
    if (c.type === 'string') {
      const data = new Array<string | null>(table.length);
      for (let i = 0; i < table.length; i++) data[i] = c.codes[i] < 0 ? null : c.dict[c.codes[i]];
      return { name, data, type: 'STRING' as const };
    }
    if (c.type === 'timestamp') {
      const data = new Array<Date | null>(table.length);
      for (let i = 0; i < table.length; i++) data[i] = Number.isNaN(c.values[i]) ? null : new Date(c.values[i]);
      return { name, data, type: 'TIMESTAMP' as const };
    }
    const data = new Array<number | null>(table.length);
    for (let i = 0; i < table.length; i++) data[i] = Number.isNaN(c.values[i]) ? null : c.values[i];
    return { name, data, type: 'DOUBLE' as const };
  });
}

export interface ParquetWriteOptions {
  metadata?: Record<string, string>;
  /** Rows per row group (default ROW_GROUP_SIZE; tests use small groups). */
  rowGroupSize?: number;
}

const kvOf = (metadata: Record<string, string> = {}) => Object.entries(metadata).map(([key, value]) => ({ key, value }));

/** Serialize a Table to Parquet bytes. Deterministic: the same table gives the same bytes. */
export function tableToParquet(table: Table, options: ParquetWriteOptions = {}): Uint8Array {
  const buf = parquetWriteBuffer({ columnData: columnDataOf(table), kvMetadata: kvOf(options.metadata), rowGroupSize: options.rowGroupSize ?? ROW_GROUP_SIZE, createdBy: 'gitops-ml' });
  return new Uint8Array(buf);
}

export async function writeParquetTable(path: string, table: Table, options: ParquetWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, tableToParquet(table, options));
}

export interface ParquetTableWriter {
  /** Append rows; they are written out whenever a whole row group has gathered. */
  append(table: Table): void;
  readonly rows: number;
  /** Write the last row group and the footer, then rename the file into place. */
  close(): Promise<void>;
  /** Remove the temporary file (after a failure); the target path is untouched. */
  abort(): Promise<void>;
}

/**
 * Write a Parquet file a row group at a time, holding at most one row group of rows plus what one
 * `append` brings. The bytes equal `writeParquetTable` of all appended rows together (same row
 * group boundaries and schema), so a streamed stage output keeps its DVC hash.
 * The file appears at `path` only on `close` (atomic rename), like every other write.
 */
export async function openParquetTableWriter(path: string, options: ParquetWriteOptions = {}): Promise<ParquetTableWriter> {
  const groupRows = options.rowGroupSize ?? ROW_GROUP_SIZE;
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempSiblingPath(path);
  const fd = openSync(tmp, 'w');
  const bytes = new ByteWriter();
  const flushBytes = () => {
    let done = 0;
    while (done < bytes.index) done += writeSync(fd, new Uint8Array(bytes.buffer, done, bytes.index - done));
    bytes.index = 0;
  };
  // ParquetWriter calls flush after every row group: the encoded group leaves memory then.
  const writer = Object.assign(bytes, { flush: flushBytes });
  let pq: ParquetWriter | undefined;
  let pending: Table[] = [];
  let pendingRows = 0;
  let rows = 0;
  let closed = false;
  const writeRows = (table: Table) => {
    const columnData = columnDataOf(table);
    pq ??= new ParquetWriter({ writer, schema: schemaFromColumnData({ columnData }), kvMetadata: kvOf(options.metadata), createdBy: 'gitops-ml' });
    void pq.write({ columnData, rowGroupSize: groupRows });
  };
  const drain = (final: boolean) => {
    if (!pendingRows) return;
    const all = pending.length === 1 ? pending[0] : concatTables(pending);
    let at = 0;
    for (; all.length - at >= groupRows; at += groupRows) writeRows(sliceRows(all, at, at + groupRows));
    if (final && at < all.length) {
      writeRows(at === 0 ? all : sliceRows(all, at, all.length));
      at = all.length;
    }
    pending = at < all.length ? [at === 0 ? all : sliceRows(all, at, all.length)] : [];
    pendingRows = all.length - at;
  };
  return {
    get rows() {
      return rows;
    },
    append(table) {
      if (closed) throw new Error(`${path}: append after close`);
      if (table.length === 0) return;
      pending.push(table);
      pendingRows += table.length;
      rows += table.length;
      if (pendingRows >= groupRows) drain(false);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        drain(true);
        if (!pq) {
          // No rows at all: the same bytes as tableToParquet of an empty table.
          flushBytes();
          closeSync(fd);
          await writeFileAtomic(path, tableToParquet({ length: 0, columns: {} }, options));
          await rm(tmp, { force: true });
          return;
        }
        void pq.finish();
        flushBytes();
        fsyncSync(fd);
        closeSync(fd);
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
    async abort() {
      if (!closed) closeSync(fd);
      closed = true;
      await rm(tmp, { force: true });
    },
  };
}
