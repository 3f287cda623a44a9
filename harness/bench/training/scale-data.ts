/**
 * The pure parts of `npm run bench:scale`: a larger table made by tiling the bundled flights with
 * their dates moved by whole multiples of the source's span, and the straight-line fit of a stage's
 * cost against rows.
 */
import { openParquet, openParquetTableWriter, readParquetRowGroups } from '../../../core/data/parquet.ts';
import type { Column, Table } from '../../../core/data/table.ts';

const WEEK_MS = 7 * 86_400_000;

/**
 * How far each copy of the source moves in time: its span rounded up to whole weeks, so copies
 * never overlap and every record keeps its hour and day of week (the features the model uses).
 */
export function tileShiftMs(minTime: number, maxTime: number): number {
  if (!Number.isFinite(minTime) || !Number.isFinite(maxTime) || maxTime < minTime)
    throw new Error(`cannot tile a source without a finite time range (min ${minTime}, max ${maxTime})`);
  return Math.max(1, Math.ceil((maxTime - minTime + 1) / WEEK_MS)) * WEEK_MS;
}

/** `table` with its timestamp column `timeColumn` moved by `shiftMs` (other columns shared, not copied). */
export function shiftTable(table: Table, timeColumn: string, shiftMs: number): Table {
  const c: Column | undefined = table.columns[timeColumn];
  if (!c || c.type === 'string')
    throw new Error(`column "${timeColumn}" must be a timestamp or number column to shift its dates`);
  const values = new Float64Array(c.values.length);
  for (let i = 0; i < values.length; i++) values[i] = c.values[i] + shiftMs;
  return { length: table.length, columns: { ...table.columns, [timeColumn]: { type: c.type, values } } };
}

/** The source tiled to `rows` records in time order; copy k is moved by k × tileShiftMs. */
export async function writeTiledTable(options: {
  source: string;
  out: string;
  rows: number;
  timeColumn: string;
  /** Rows per output row group (tests use small groups). */
  rowGroupSize?: number;
}): Promise<{ rows: number; copies: number; shiftMs: number }> {
  const src = await openParquet(options.source);
  if (src.rows === 0) throw new Error(`${options.source} has no rows to tile`);
  let min = Infinity;
  let max = -Infinity;
  for await (const g of readParquetRowGroups(src, { columns: [options.timeColumn] })) {
    const c = g.columns[options.timeColumn];
    if (c.type === 'string') throw new Error(`column "${options.timeColumn}" of ${options.source} is text, not a time`);
    for (const v of c.values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const shiftMs = tileShiftMs(min, max);
  const out = await openParquetTableWriter(options.out, { rowGroupSize: options.rowGroupSize });
  let copies = 0;
  try {
    while (out.rows < options.rows) {
      for await (const g of readParquetRowGroups(src)) {
        const need = options.rows - out.rows;
        if (need <= 0) break;
        const part = g.length > need ? sliceTable(g, need) : g;
        out.append(shiftTable(part, options.timeColumn, copies * shiftMs));
      }
      copies++;
    }
    await out.close();
  } catch (err) {
    await out.abort();
    throw err;
  }
  return { rows: out.rows, copies, shiftMs };
}

function sliceTable(t: Table, n: number): Table {
  const columns: Table['columns'] = {};
  for (const [name, c] of Object.entries(t.columns))
    columns[name] =
      c.type === 'string'
        ? { type: 'string', codes: c.codes.subarray(0, n), dict: c.dict }
        : { type: c.type, values: c.values.subarray(0, n) };
  return { length: n, columns };
}

/** Least-squares line y = intercept + slope·x; a single point gives slope 0. */
export function linearFit(points: { x: number; y: number }[]): { slope: number; intercept: number } {
  if (points.length === 0) throw new Error('no points to fit');
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
