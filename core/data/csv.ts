/**
 * Streaming CSV (RFC 4180) → columnar Table of raw strings. Works on bytes so that a broken
 * record costs one reject, not the file: invalid UTF-8 and oversize fields are flagged per row in
 * the `__issue` column (never held whole in memory), `__row` keeps the source line number.
 * Types are not guessed here: the validate stage coerces with the schema from params.yaml.
 * Hand-written rather than csv-parse: csv-parse raises for the whole parse when a record exceeds
 * max_record_size and decodes text before parsing (invalid UTF-8 silently becomes U+FFFD), so one
 * broken record would fail or corrupt the file; here each costs its own row, with its line number.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StringColumnBuilder, NumberColumnBuilder, type Column, type Table } from './table.ts';

export const ROW_COLUMN = '__row';
export const ISSUE_COLUMN = '__issue';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

export interface CsvOptions {
  delimiter?: string;
  /** Fields longer than this many bytes are flagged `field_too_large` and dropped. */
  maxFieldBytes?: number;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Stop after this many records (a header and a sample, without reading the whole file). */
  maxRows?: number;
}

export class CsvFormatError extends Error {}

export async function readCsvTable(path: string, options: CsvOptions = {}): Promise<{ table: Table; header: string[] }> {
  const delimiter = (options.delimiter ?? ',').charCodeAt(0);
  const maxField = options.maxFieldBytes ?? 1 << 20;
  const maxRows = options.maxRows ?? Infinity;
  const totalBytes = (await stat(path)).size;
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const lossy = new TextDecoder('utf-8');

  const acc = Buffer.alloc(maxField + 4);
  let accLen = 0;
  let accOverflow = false;
  let accHigh = false;
  let quoted = false;
  let inQuotes = false;
  let quotePending = false;

  let line = 1;
  let recordLine = 1;
  let fields: (string | null)[] = [];
  let issues: string[] = [];
  let header: string[] | null = null;
  let builders: StringColumnBuilder[] = [];
  const rowBuilder = new NumberColumnBuilder('number', 1 << 16);
  const issueBuilder = new StringColumnBuilder(1 << 16);
  let firstChunk = true;
  let bytesRead = 0;
  let full = false;

  const append = (chunk: Buffer, s: number, e: number) => {
    if (e <= s) return;
    if (accOverflow) return;
    if (accLen + (e - s) > maxField) {
      accOverflow = true;
      return;
    }
    chunk.copy(acc, accLen, s, e);
    accLen += e - s;
  };

  const endField = () => {
    const len = accLen;
    let value: string | null;
    const column = header ? header[fields.length] ?? `#${fields.length + 1}` : `#${fields.length + 1}`;
    if (accOverflow) {
      issues.push(`field_too_large:${column}`);
      value = null;
    } else if (len === 0) {
      value = quoted ? '' : null;
    } else if (!accHigh) {
      value = acc.toString('latin1', 0, len);
    } else {
      try {
        value = utf8.decode(acc.subarray(0, len));
      } catch {
        issues.push(`invalid_utf8:${column}`);
        value = lossy.decode(acc.subarray(0, len));
      }
    }
    fields.push(value);
    accLen = 0;
    accOverflow = false;
    accHigh = false;
    quoted = false;
  };

  const endRecord = () => {
    endField();
    const blank = fields.length === 1 && fields[0] === null && issues.length === 0;
    if (!blank) {
      if (header === null) startHeader();
      else pushRecord();
    }
    fields = [];
    issues = [];
  };

  const startHeader = () => {
    const names = fields.map((f, i) => (f ?? '').trim() || `#${i + 1}`);
    const seen = new Set<string>();
    for (const [i, n] of names.entries()) {
      if (!fields[i] || !fields[i].trim()) throw new CsvFormatError(`${path}: header column ${i + 1} has no name; every column needs a name in line ${recordLine}`);
      if (seen.has(n)) throw new CsvFormatError(`${path}: header names column "${n}" twice (line ${recordLine}); rename one of them`);
      if (n === ROW_COLUMN || n === ISSUE_COLUMN) throw new CsvFormatError(`${path}: column name "${n}" is reserved; rename it`);
      seen.add(n);
    }
    header = names;
    builders = names.map(() => new StringColumnBuilder(1 << 16));
    if (maxRows <= 0) full = true;
  };

  const pushRecord = () => {
    const h = header!;
    if (fields.length !== h.length) issues.push(`field_count:${fields.length}/${h.length}`);
    for (let i = 0; i < h.length; i++) builders[i].push(i < fields.length ? fields[i] : null);
    rowBuilder.push(recordLine);
    issueBuilder.push(issues.length ? issues.join(';') : null);
    if (rowBuilder.length >= maxRows) full = true;
  };

  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const raw of stream) {
    let chunk = raw as Buffer;
    if (firstChunk) {
      firstChunk = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    bytesRead += (raw as Buffer).length;
    let seg = 0;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk[i];
      if (c >= 0x80) accHigh = true;
      if (inQuotes) {
        if (quotePending) {
          quotePending = false;
          if (c === QUOTE) {
            // An escaped quote ("") inside a quoted field stands for one quote.
            if (accLen + 1 > maxField) accOverflow = true;
            else if (!accOverflow) acc[accLen++] = QUOTE;
            seg = i + 1;
            continue;
          }
          inQuotes = false; // closing quote: fall through to unquoted handling of this byte
          seg = i;
        } else {
          if (c === QUOTE) {
            append(chunk, seg, i);
            quotePending = true;
            seg = i + 1;
          } else if (c === LF) {
            line++;
          }
          continue;
        }
      }
      if (c === delimiter) {
        append(chunk, seg, i);
        endField();
        seg = i + 1;
      } else if (c === LF) {
        // Drop the CR of a CRLF line end, also when it arrived at the end of the previous chunk.
        if (i > seg && chunk[i - 1] === CR) append(chunk, seg, i - 1);
        else {
          append(chunk, seg, i);
          if (i === seg && accLen > 0 && acc[accLen - 1] === CR) accLen--;
        }
        endRecord();
        line++;
        recordLine = line;
        seg = i + 1;
        if (full) break;
      } else if (c === QUOTE && accLen === 0 && seg === i && !quoted) {
        quoted = true;
        inQuotes = true;
        seg = i + 1;
      }
    }
    if (full) {
      stream.destroy();
      break;
    }
    append(chunk, seg, n);
    options.onProgress?.(bytesRead, totalBytes);
  }
  if (!full) {
    if (inQuotes && !quotePending) issues.push('unterminated_quote');
    if (accLen > 0 || fields.length > 0 || accOverflow || quoted) endRecord();
  }
  if (header === null) throw new CsvFormatError(`${path} is empty: no header line. A CSV source needs a header row naming its columns.`);

  const h = header as string[];
  const columns: Record<string, Column> = {};
  h.forEach((name, i) => (columns[name] = builders[i].finish()));
  columns[ROW_COLUMN] = rowBuilder.finish();
  columns[ISSUE_COLUMN] = issueBuilder.finish();
  return { table: { length: rowBuilder.length, columns }, header: h };
}
