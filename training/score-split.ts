/**
 * A prepared split scored by a bundle a row group at a time: what is kept per row is its encoded
 * label and the bundle's outputs (4 bytes each, k per row for k classes), never the split's table.
 */
import { openParquet, readParquetRowGroups } from '../core/data/parquet.ts';
import type { ColumnType } from '../core/data/table.ts';
import { encodeTarget } from '../core/model/features.ts';
import type { LoadedBundle } from '../core/model/bundle.ts';

export interface ScoredSplit {
  rows: number;
  /** The split's column types (for comparability checks), from the file's schema. */
  columns: Record<string, ColumnType>;
  y: Float32Array;
  p: Float32Array;
}

export async function scoreSplit(
  bundle: Pick<LoadedBundle, 'spec' | 'classes' | 'predictTable'>,
  path: string,
  options: { beforeScoring?: (columns: Record<string, ColumnType>) => void } = {},
): Promise<ScoredSplit> {
  const source = await openParquet(path);
  const columns = Object.fromEntries(source.columns.map((c) => [c.name, c.type]));
  options.beforeScoring?.(columns);
  const k = bundle.classes?.length ?? 1;
  const target = bundle.spec.target;
  const y = new Float32Array(source.rows);
  const p = new Float32Array(source.rows * k);
  for await (const chunk of readParquetRowGroups(source)) {
    y.set(encodeTarget(target, chunk.columns[target.column]), chunk.rowStart);
    p.set(bundle.predictTable(chunk), chunk.rowStart * k);
  }
  return { rows: source.rows, columns, y, p };
}
