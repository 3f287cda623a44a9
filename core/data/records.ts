/**
 * JSON records (API requests, golden examples, edge cases) → a columnar Table the feature code
 * accepts, checking each field against the input schema the model was trained with. Every problem
 * is reported per record and field, so one bad instance never hides the others.
 */
import type { ColumnRule } from '../schemas/params.ts';
import { MISSING_CODE, StringColumnBuilder, type Column, type Table } from './table.ts';
import { parseTimestamp } from '../platform/time.ts';

export interface FieldError {
  field: string;
  message: string;
}

export type InputSchema = Record<string, ColumnRule>;

export interface RecordsResult {
  table: Table;
  /** errors[i] is empty when record i is usable. Rows with errors still occupy their slot. */
  errors: FieldError[][];
}

export interface RecordOptions {
  /** Reject fields the model does not know (the API's default); batch files may allow them. */
  allowExtraFields?: boolean;
}

const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) patterns.set(pattern, (re = new RegExp(pattern)));
  return re;
}

/**
 * A rule's parsed bounds and allowed set, computed once per schema rule instead of once per field
 * of every record (a timestamp bound is an ISO string: parsing it per request cost more than the
 * value itself). Schemas are not mutated after loading, so the rule object is the cache key.
 */
interface RuleFacts {
  min: number | undefined;
  max: number | undefined;
  allowed: Set<string> | undefined;
}
const ruleFacts = new WeakMap<ColumnRule, RuleFacts>();
function factsOf(rule: ColumnRule): RuleFacts {
  let f = ruleFacts.get(rule);
  if (!f)
    ruleFacts.set(
      rule,
      (f = { min: bound(rule.min, rule.type), max: bound(rule.max, rule.type), allowed: rule.allowed && new Set(rule.allowed) }),
    );
  return f;
}

/** At most this many unknown fields are named per record; the rest are counted in one entry. */
export const MAX_UNKNOWN_FIELDS_NAMED = 10;
/** Field names echoed back in errors are cut to this many characters. */
export const MAX_FIELD_NAME_LENGTH = 64;

/** A client-supplied name made safe to echo: bounded length, control characters visible. */
export function shortName(name: string): string {
  const cut = name.length > MAX_FIELD_NAME_LENGTH ? name.slice(0, MAX_FIELD_NAME_LENGTH - 3) + '...' : name;
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are replaced
  return cut.replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** Words for a value; never recurses into it (a 400,000-deep array costs the same as `[]`). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 37) + '...' : v}"`;
  if (typeof v === 'number') return String(v);
  return typeof v;
}

export function recordsToTable(records: unknown[], schema: InputSchema, options: RecordOptions = {}): RecordsResult {
  const n = records.length;
  const names = Object.keys(schema);
  const errors: FieldError[][] = records.map(() => []);
  const numeric = new Map<string, Float64Array>();
  const strings = new Map<string, StringColumnBuilder>();
  for (const name of names) {
    const rule = schema[name];
    if (rule.type === 'category' || rule.type === 'string') strings.set(name, new StringColumnBuilder(n));
    else numeric.set(name, new Float64Array(n).fill(NaN));
  }
  records.forEach((rec, i) => {
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      errors[i].push({ field: '(record)', message: `each instance must be a JSON object with fields ${names.join(', ')}; got ${describe(rec)}` });
      for (const b of strings.values()) b.pushCode(MISSING_CODE);
      return;
    }
    const obj = rec as Record<string, unknown>;
    if (!options.allowExtraFields) {
      // Own keys only: `constructor`, `__proto__` or `toString` are unknown fields like any other.
      let unknown = 0;
      for (const key of Object.keys(obj)) {
        if (Object.hasOwn(schema, key)) continue;
        if (++unknown <= MAX_UNKNOWN_FIELDS_NAMED) errors[i].push({ field: shortName(key), message: `unknown field; the model takes ${names.join(', ')}` });
      }
      if (unknown > MAX_UNKNOWN_FIELDS_NAMED) errors[i].push({ field: '(more unknown fields)', message: `${unknown - MAX_UNKNOWN_FIELDS_NAMED} more unknown field(s) not listed; the model takes ${names.join(', ')}` });
    }
    for (const name of names) {
      const rule = schema[name];
      const v = Object.hasOwn(obj, name) ? obj[name] : undefined;
      if (v === undefined || v === null || v === '') {
        if (rule.required) errors[i].push({ field: name, message: `required ${rule.type} is missing` });
        strings.get(name)?.pushCode(MISSING_CODE);
        continue;
      }
      if (rule.type === 'category' || rule.type === 'string') {
        const b = strings.get(name)!;
        if (typeof v !== 'string') {
          errors[i].push({ field: name, message: `must be a string, got ${describe(v)}` });
          b.pushCode(MISSING_CODE);
        } else if (rule.allowed && !factsOf(rule).allowed!.has(v)) {
          errors[i].push({ field: name, message: `must be one of ${rule.allowed.join(', ')}; got ${describe(v)}` });
          b.pushCode(MISSING_CODE);
        } else if (rule.pattern && !compiled(rule.pattern).test(v)) {
          errors[i].push({ field: name, message: `must match ${rule.pattern}; got ${describe(v)}` });
          b.pushCode(MISSING_CODE);
        } else b.push(v);
        continue;
      }
      const x = toNumber(v, rule.type);
      if (x === undefined) {
        errors[i].push({ field: name, message: rule.type === 'timestamp' ? `must be an ISO date-time string or epoch milliseconds, got ${describe(v)}` : `must be a finite number, got ${describe(v)}` });
        continue;
      }
      if (rule.type === 'integer' && !Number.isInteger(x)) {
        errors[i].push({ field: name, message: `must be a whole number, got ${x}` });
        continue;
      }
      const { min, max } = factsOf(rule);
      if ((min !== undefined && x < min) || (max !== undefined && x > max)) {
        const fmt = (b: number | undefined) => (b === undefined ? '' : rule.type === 'timestamp' ? new Date(b).toISOString() : String(b));
        errors[i].push({ field: name, message: `out of range [${fmt(min)}, ${fmt(max)}]: ${describe(v)}` });
        continue;
      }
      numeric.get(name)![i] = x;
    }
  });
  const columns: Record<string, Column> = {};
  for (const name of names) {
    const rule = schema[name];
    columns[name] = strings.has(name) ? strings.get(name)!.finish() : ({ type: rule.type === 'timestamp' ? 'timestamp' : 'number', values: numeric.get(name)! });
  }
  return { table: { length: n, columns }, errors };
}

function toNumber(v: unknown, type: ColumnRule['type']): number | undefined {
  if (type === 'timestamp') {
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
    if (typeof v === 'string') {
      const t = parseTimestamp(v);
      return Number.isNaN(t) ? undefined : t;
    }
    return undefined;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  return undefined;
}

function bound(b: number | string | undefined, type: ColumnRule['type']): number | undefined {
  if (b === undefined) return undefined;
  return type === 'timestamp' ? (typeof b === 'number' ? b : parseTimestamp(b)) : Number(b);
}

/** The raw input record of one table row (for golden examples and reports). */
export function recordAt(table: Table, row: number, fields: string[]): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const f of fields) {
    const c = table.columns[f];
    if (!c) continue;
    if (c.type === 'string') out[f] = c.codes[row] < 0 ? null : c.dict[c.codes[row]];
    else if (c.type === 'timestamp') out[f] = Number.isFinite(c.values[row]) ? new Date(c.values[row]).toISOString() : null;
    else out[f] = Number.isFinite(c.values[row]) ? c.values[row] : null;
  }
  return out;
}
