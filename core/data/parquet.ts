/**
 * Parquet ⇄ columnar Table. Reading goes through hyparquet (+ ZSTD etc. from
 * hyparquet-compressors); writing through hyparquet-writer. Timestamps are read as epoch
 * milliseconds directly (no Date objects per row) to keep 3M-row reads fast and small.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, type FileMetaData, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { writeFileAtomic } from '../platform/atomic.ts';
import { MISSING_CODE, StringColumnBuilder, type Column, type ColumnType, type Table } from './table.ts';

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

/** Serialize a Table to Parquet bytes. Deterministic: the same table gives the same bytes. */
export function tableToParquet(table: Table, options: { metadata?: Record<string, string> } = {}): Uint8Array {
  const columnData = Object.entries(table.columns).map(([name, c]) => {
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
  const kvMetadata = Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value }));
  const buf = parquetWriteBuffer({ columnData, kvMetadata, rowGroupSize: 250_000, createdBy: 'gitops-ml' });
  return new Uint8Array(buf);
}

export async function writeParquetTable(path: string, table: Table, options: { metadata?: Record<string, string> } = {}): Promise<void> {
  await writeFileAtomic(path, tableToParquet(table, options));
}
