/**
 * JSON source → columnar Table of raw strings, the same shape readCsvTable gives: a top-level array
 * of flat objects (what vega-datasets' cars.json and penguins.json are), one column per key in
 * order of first appearance, numbers and booleans as their text, null or an absent key missing.
 * Types are not guessed here either: the validate stage coerces with the schema, as for CSV.
 * The file is parsed whole, so its size is bounded (a larger table belongs in CSV or Parquet).
 */
import { readFile, stat } from 'node:fs/promises';
import { NumberColumnBuilder, StringColumnBuilder, type Column, type Table } from './table.ts';
import { ISSUE_COLUMN, ROW_COLUMN, readCsvTable } from './csv.ts';

export interface JsonOptions {
  /** Refuse files larger than this many bytes (default 256 MiB). */
  maxBytes?: number;
  /** Values longer than this many bytes are flagged `field_too_large` and dropped, as in CSV. */
  maxFieldBytes?: number;
  /** Keep only the first this many records. */
  maxRows?: number;
}

export class JsonFormatError extends Error {}

export const DEFAULT_MAX_JSON_BYTES = 256 * 1024 * 1024;

export async function readJsonTable(path: string, options: JsonOptions = {}): Promise<{ table: Table; header: string[] }> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_JSON_BYTES;
  const size = (await stat(path)).size;
  if (size > maxBytes)
    throw new JsonFormatError(
      `${path} is ${size} bytes, above the ${maxBytes}-byte limit for a JSON source (parsed whole in memory); convert it to CSV or Parquet`,
    );
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new JsonFormatError(`${path} is not valid JSON (${(err as Error).message}); a JSON source is an array of objects`);
  }
  return jsonRecordsToTable(doc, path, options);
}

/** The table of an already-parsed document; `where` names it in errors. */
export function jsonRecordsToTable(
  doc: unknown,
  where: string,
  options: Pick<JsonOptions, 'maxFieldBytes' | 'maxRows'> = {},
): { table: Table; header: string[] } {
  if (!Array.isArray(doc))
    throw new JsonFormatError(
      `${where}: a JSON source must be a top-level array of objects (one per record), not ${kindOf(doc)}`,
    );
  const maxField = options.maxFieldBytes ?? 1 << 20;
  const records = doc.slice(0, options.maxRows ?? doc.length);
  const header: string[] = [];
  const builders = new Map<string, StringColumnBuilder>();
  const rowBuilder = new NumberColumnBuilder('number', records.length);
  const issueBuilder = new StringColumnBuilder(records.length);
  records.forEach((rec: unknown, i) => {
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
      throw new JsonFormatError(
        `${where}: element ${i} of the array is ${kindOf(rec)}, not an object; every record must be an object of column → value`,
      );
    const issues: string[] = [];
    for (const [key, value] of Object.entries(rec as Record<string, unknown>)) {
      let b = builders.get(key);
      if (!b) {
        // A key first seen at record i: the records before it had no value there.
        b = new StringColumnBuilder(records.length);
        for (let j = 0; j < i; j++) b.push(null);
        builders.set(key, b);
        header.push(key);
      }
      const text = textOf(value);
      if (text !== null && Buffer.byteLength(text) > maxField) {
        issues.push('field_too_large');
        b.push(null);
      } else b.push(text);
    }
    for (const b of builders.values()) if (b.length < i + 1) b.push(null);
    rowBuilder.push(i + 1);
    issueBuilder.push(issues.length ? issues.join(';') : null);
  });
  const columns: Record<string, Column> = {};
  for (const name of header) columns[name] = builders.get(name)!.finish();
  columns[ROW_COLUMN] = rowBuilder.finish();
  columns[ISSUE_COLUMN] = issueBuilder.finish();
  return { table: { length: records.length, columns }, header };
}

/** A value as the text a CSV cell would hold; nested values keep their JSON text (the schema then rejects them). */
function textOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A CSV or JSON file read whole into raw strings (typed later, by validation with the schema). */
export function readTextTable(
  path: string,
  format: 'csv' | 'json',
  options: { maxFieldBytes?: number; maxRows?: number } = {},
): Promise<{ table: Table; header: string[] }> {
  return format === 'json' ? readJsonTable(path, options) : readCsvTable(path, options);
}

/** A file given on a command line: JSON by its extension, else CSV. */
export const textFormatOf = (path: string): 'csv' | 'json' => (/\.json$/i.test(path) ? 'json' : 'csv');
