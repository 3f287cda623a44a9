/**
 * What the train stage reads of the prepared splits, so its memory does not grow with the table:
 * at most `maxRows` rows of a split, the last ones of the file. prepare writes each split in time
 * order, so those are the most recent rows — the ones nearest the validation and test periods,
 * which a drifting target (flight delays from winter to summer) is scored on. Only the row
 * groups that hold them are decoded. The test split is never read whole: its row count comes
 * from the footer and the golden examples are read row by row.
 */
import { openParquet, readParquetTable } from '../core/data/parquet.ts';
import { concatTables, type Table } from '../core/data/table.ts';

export interface SplitRead {
  table: Table;
  /** Rows in the file; `table.length` when nothing was left out. */
  of: number;
}

/** The last `maxRows` rows of a Parquet split (all of it when it has no more, or maxRows is undefined). */
export async function readRecentRows(path: string, maxRows: number | undefined): Promise<SplitRead> {
  const source = await openParquet(path);
  const rowStart = maxRows === undefined ? 0 : Math.max(0, source.rows - maxRows);
  return { table: await readParquetTable(source, { rowStart }), of: source.rows };
}

/**
 * Rows 0, step, 2·step, … (`count` of them, step = ⌊rows / count⌋) of a Parquet split and its row
 * count: the rows training/select/golden.ts picks from the whole test split, read one at a time.
 */
export async function readSpacedRows(path: string, count: number): Promise<SplitRead> {
  const source = await openParquet(path);
  const step = Math.max(1, Math.floor(source.rows / count));
  const picked = Array.from({ length: Math.min(count, source.rows) }, (_, i) => i * step);
  // One at a time: each read decodes the row group holding its row.
  const rows: Table[] = [];
  for (const r of picked) rows.push(await readParquetTable(source, { rowStart: r, rowEnd: r + 1 }));
  return { table: rows.length ? concatTables(rows) : await readParquetTable(source, { rowEnd: 0 }), of: source.rows };
}
