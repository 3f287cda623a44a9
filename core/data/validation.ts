/**
 * Row validation against the schema in params.yaml: coerces raw columns (strings from CSV or
 * typed Parquet columns) to their declared types and gives every bad row its reasons. Work is done
 * per dictionary entry where possible, so 3M rows with a few thousand distinct strings are cheap.
 */
import type { ColumnRule } from '../schemas/params.ts';
import { ISSUE_COLUMN, ROW_COLUMN } from './csv.ts';
import { MISSING_CODE, StringColumnBuilder, type Column, type StringColumn, type Table } from './table.ts';
import { parseTimestamp } from '../platform/time.ts';

export type RejectReason = 'missing' | 'wrong_type' | 'out_of_range' | 'not_allowed' | 'pattern_mismatch' | 'invalid_utf8' | 'field_too_large' | 'field_count' | 'unterminated_quote';

export interface ValidationResult {
  clean: Table;
  rowsIn: number;
  /** For each rejected row (index into the input table): its problems. */
  rejects: { index: number; problems: { column: string; reason: RejectReason; value: string | null }[] }[];
  byReason: Partial<Record<RejectReason, number>>;
  byColumn: Record<string, Partial<Record<RejectReason, number>>>;
  droppedColumns: string[];
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

export class SchemaMismatchError extends Error {}

export function validateTable(table: Table, schema: Record<string, ColumnRule>): ValidationResult {
  const missingColumns = Object.entries(schema).filter(([name, rule]) => rule.required && !table.columns[name]).map(([n]) => n);
  if (missingColumns.length) {
    const have = Object.keys(table.columns).filter((c) => !c.startsWith('__'));
    throw new SchemaMismatchError(`required column(s) ${missingColumns.map((c) => `"${c}"`).join(', ')} missing from the data (it has: ${have.join(', ') || 'no columns'}); fix the source or validate.schema in params.yaml`);
  }
  const n = table.length;
  const problems: Map<number, { column: string; reason: RejectReason; value: string | null }[]> = new Map();
  const byReason: ValidationResult['byReason'] = {};
  const byColumn: ValidationResult['byColumn'] = {};
  const flag = (row: number, column: string, reason: RejectReason, value: string | null) => {
    let list = problems.get(row);
    if (!list) problems.set(row, (list = []));
    list.push({ column, reason, value });
    byReason[reason] = (byReason[reason] ?? 0) + 1;
    (byColumn[column] ??= {})[reason] = (byColumn[column][reason] ?? 0) + 1;
  };

  const issues = table.columns[ISSUE_COLUMN];
  if (issues?.type === 'string') {
    for (let r = 0; r < n; r++) {
      const code = issues.codes[r];
      if (code < 0) continue;
      for (const part of issues.dict[code].split(';')) {
        const [reason, column = '*'] = part.split(':');
        flag(r, column, reason as RejectReason, null);
      }
    }
  }

  const typed: Record<string, Column> = {};
  for (const [name, rule] of Object.entries(schema)) {
    const raw = table.columns[name];
    typed[name] = raw ? coerceColumn(name, raw, rule, n, flag) : missingColumn(rule, n);
  }
  const rowCol = table.columns[ROW_COLUMN];
  if (rowCol) typed[ROW_COLUMN] = rowCol;

  const keep: number[] = [];
  for (let r = 0; r < n; r++) if (!problems.has(r)) keep.push(r);
  const clean = takeByIndex({ length: n, columns: typed }, keep);
  const rejects = [...problems.entries()].sort((a, b) => a[0] - b[0]).map(([index, list]) => ({ index, problems: list }));
  const droppedColumns = Object.keys(table.columns).filter((c) => !schema[c] && !c.startsWith('__'));
  return { clean, rowsIn: n, rejects, byReason, byColumn, droppedColumns };
}

type Flag = (row: number, column: string, reason: RejectReason, value: string | null) => void;

function missingColumn(rule: ColumnRule, n: number): Column {
  if (rule.type === 'category' || rule.type === 'string') return { type: 'string', codes: new Int32Array(n).fill(MISSING_CODE), dict: [] };
  return { type: rule.type === 'timestamp' ? 'timestamp' : 'number', values: new Float64Array(n).fill(NaN) };
}

function bound(v: number | string | undefined, rule: ColumnRule): number | undefined {
  if (v === undefined) return undefined;
  if (rule.type === 'timestamp') return typeof v === 'number' ? v : parseTimestamp(v);
  return Number(v);
}

function coerceColumn(name: string, raw: Column, rule: ColumnRule, n: number, flag: Flag): Column {
  if (rule.type === 'category' || rule.type === 'string') return coerceString(name, raw, rule, n, flag);
  const min = bound(rule.min, rule);
  const max = bound(rule.max, rule);
  const values = new Float64Array(n);
  // Parse each distinct string once.
  let parsed: Float64Array | undefined;
  if (raw.type === 'string') {
    parsed = new Float64Array(raw.dict.length);
    raw.dict.forEach((s, i) => (parsed![i] = rule.type === 'timestamp' ? parseTimestamp(s) : NUMBER.test(s) ? Number(s) : NaN));
  }
  for (let r = 0; r < n; r++) {
    let v: number;
    let isMissing: boolean;
    if (raw.type === 'string') {
      const code = raw.codes[r];
      isMissing = code < 0 || raw.dict[code].trim() === '';
      v = isMissing ? NaN : parsed![code];
      if (!isMissing && Number.isNaN(v)) {
        flag(r, name, 'wrong_type', raw.dict[code]);
        values[r] = NaN;
        continue;
      }
    } else {
      v = raw.values[r];
      isMissing = Number.isNaN(v);
      if (raw.type === 'timestamp' && rule.type !== 'timestamp' && !isMissing) {
        flag(r, name, 'wrong_type', new Date(v).toISOString());
        continue;
      }
    }
    if (isMissing) {
      if (rule.required) flag(r, name, 'missing', null);
      values[r] = NaN;
      continue;
    }
    if (!Number.isFinite(v) || (rule.type === 'integer' && !Number.isInteger(v))) {
      flag(r, name, 'wrong_type', String(v));
      continue;
    }
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
      flag(r, name, 'out_of_range', rule.type === 'timestamp' ? new Date(v).toISOString() : String(v));
      continue;
    }
    values[r] = v;
  }
  return { type: rule.type === 'timestamp' ? 'timestamp' : 'number', values };
}

function coerceString(name: string, raw: Column, rule: ColumnRule, n: number, flag: Flag): StringColumn {
  let source: StringColumn;
  if (raw.type === 'string') source = raw;
  else {
    // Numbers or timestamps declared as categories: use their text form.
    const b = new StringColumnBuilder(n);
    for (let r = 0; r < n; r++) {
      const v = raw.values[r];
      b.push(Number.isNaN(v) ? null : raw.type === 'timestamp' ? new Date(v).toISOString() : String(v));
    }
    source = b.finish();
  }
  const pattern = rule.pattern ? new RegExp(rule.pattern) : undefined;
  const allowed = rule.allowed ? new Set(rule.allowed) : undefined;
  const verdict = source.dict.map((s): RejectReason | null => {
    if (s.trim() === '') return 'missing';
    if (allowed && !allowed.has(s)) return 'not_allowed';
    if (pattern && !pattern.test(s)) return 'pattern_mismatch';
    return null;
  });
  const codes = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const code = source.codes[r];
    const problem = code < 0 ? 'missing' : verdict[code];
    if (problem === 'missing') {
      if (rule.required) flag(r, name, 'missing', null);
      codes[r] = MISSING_CODE;
    } else if (problem) {
      flag(r, name, problem, source.dict[code]);
      codes[r] = MISSING_CODE;
    } else codes[r] = code;
  }
  return { type: 'string', codes, dict: source.dict };
}

function takeByIndex(t: Table, rows: number[]): Table {
  if (rows.length === t.length) return t;
  const out: Record<string, Column> = {};
  for (const [name, c] of Object.entries(t.columns)) {
    if (c.type === 'string') out[name] = { type: 'string', codes: Int32Array.from(rows, (r) => c.codes[r]), dict: c.dict };
    else out[name] = { type: c.type, values: Float64Array.from(rows, (r) => c.values[r]) };
  }
  return { length: rows.length, columns: out };
}
