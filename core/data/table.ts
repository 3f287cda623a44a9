/**
 * Columnar tables: one typed array per column instead of one object per row, so 3,000,000
 * flights take tens of megabytes, not gigabytes. Strings are dictionary-encoded (Int32 codes into
 * a shared string list), which also makes category counting a pass over integers.
 */
export type NumberColumn = { type: 'number'; values: Float64Array }; // NaN = missing
export type TimestampColumn = { type: 'timestamp'; values: Float64Array }; // epoch ms (UTC wall clock), NaN = missing
export type StringColumn = { type: 'string'; codes: Int32Array; dict: string[] }; // -1 = missing
export type Column = NumberColumn | TimestampColumn | StringColumn;
export type ColumnType = Column['type'];

export interface Table {
  length: number;
  columns: Record<string, Column>;
}

export const MISSING_CODE = -1;

export function columnLength(c: Column): number {
  return c.type === 'string' ? c.codes.length : c.values.length;
}

export function makeTable(columns: Record<string, Column>): Table {
  const names = Object.keys(columns);
  const length = names.length ? columnLength(columns[names[0]]) : 0;
  for (const n of names) {
    if (columnLength(columns[n]) !== length) {
      throw new Error(`column "${n}" has ${columnLength(columns[n])} rows but "${names[0]}" has ${length}; all columns of a table must have the same length`);
    }
  }
  return { length, columns };
}

export function stringAt(c: StringColumn, row: number): string | null {
  const code = c.codes[row];
  return code < 0 ? null : c.dict[code];
}

/** Read one cell as a JS value (for error messages and small samples, not hot loops). */
export function cellValue(c: Column, row: number): number | string | null {
  if (c.type === 'string') return stringAt(c, row);
  const v = c.values[row];
  return Number.isNaN(v) ? null : v;
}

/** Rows selected by index, in the given order. */
export function takeRows(t: Table, rows: ArrayLike<number>): Table {
  const out: Record<string, Column> = {};
  const n = rows.length;
  for (const [name, c] of Object.entries(t.columns)) {
    if (c.type === 'string') {
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) codes[i] = c.codes[rows[i]];
      out[name] = { type: 'string', codes, dict: c.dict };
    } else {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = c.values[rows[i]];
      out[name] = { type: c.type, values };
    }
  }
  return { length: n, columns: out };
}

export function sliceRows(t: Table, start: number, end: number): Table {
  const out: Record<string, Column> = {};
  for (const [name, c] of Object.entries(t.columns)) {
    out[name] = c.type === 'string' ? { type: 'string', codes: c.codes.slice(start, end), dict: c.dict } : ({ type: c.type, values: c.values.slice(start, end) });
  }
  return { length: Math.max(0, Math.min(end, t.length) - start), columns: out };
}

/**
 * Concatenate tables with the same column names and types; string dictionaries are merged so
 * codes stay valid.
 */
export function concatTables(tables: Table[]): Table {
  if (tables.length === 0) return { length: 0, columns: {} };
  const names = Object.keys(tables[0].columns);
  const total = tables.reduce((s, t) => s + t.length, 0);
  const out: Record<string, Column> = {};
  for (const name of names) {
    const first = tables[0].columns[name];
    for (const [i, t] of tables.entries()) {
      const c = t.columns[name];
      if (!c) throw new Error(`cannot concatenate: part ${i} has no column "${name}"`);
      if (c.type !== first.type) throw new Error(`cannot concatenate: column "${name}" is ${first.type} in part 0 but ${c.type} in part ${i}`);
    }
    if (first.type === 'string') {
      const builder = new StringColumnBuilder(total);
      for (const t of tables) {
        const c = t.columns[name] as StringColumn;
        const remap = c.dict.map((s) => builder.intern(s));
        for (let i = 0; i < c.codes.length; i++) builder.pushCode(c.codes[i] < 0 ? MISSING_CODE : remap[c.codes[i]]);
      }
      out[name] = builder.finish();
    } else {
      const values = new Float64Array(total);
      let offset = 0;
      for (const t of tables) {
        const c = t.columns[name] as NumberColumn | TimestampColumn;
        values.set(c.values, offset);
        offset += c.values.length;
      }
      out[name] = { type: first.type, values };
    }
  }
  return { length: total, columns: out };
}

/** Growable builder for dictionary-encoded strings. */
export class StringColumnBuilder {
  private codes: Int32Array;
  private size = 0;
  private readonly index = new Map<string, number>();
  readonly dict: string[] = [];

  constructor(capacity = 1024) {
    this.codes = new Int32Array(Math.max(16, capacity));
  }

  intern(s: string): number {
    let code = this.index.get(s);
    if (code === undefined) {
      code = this.dict.length;
      this.dict.push(s);
      this.index.set(s, code);
    }
    return code;
  }

  push(s: string | null | undefined): void {
    this.pushCode(s === null || s === undefined ? MISSING_CODE : this.intern(s));
  }

  pushCode(code: number): void {
    if (this.size === this.codes.length) {
      const grown = new Int32Array(this.codes.length * 2);
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[this.size++] = code;
  }

  get length(): number {
    return this.size;
  }

  finish(): StringColumn {
    return { type: 'string', codes: this.codes.slice(0, this.size), dict: this.dict };
  }
}

/** Growable Float64 builder for number and timestamp columns. */
export class NumberColumnBuilder {
  private values: Float64Array;
  private size = 0;

  constructor(readonly type: 'number' | 'timestamp', capacity = 1024) {
    this.values = new Float64Array(Math.max(16, capacity));
  }

  push(v: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = v;
  }

  get length(): number {
    return this.size;
  }

  finish(): NumberColumn | TimestampColumn {
    return { type: this.type, values: this.values.slice(0, this.size) };
  }
}

/** Stable argsort of a Float64Array ascending; NaN sorts last. Returns identity fast when already sorted. */
export function stableArgsort(values: Float64Array): Uint32Array {
  const n = values.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let sorted = true;
  for (let i = 1; i < n; i++) {
    const a = values[i - 1];
    const b = values[i];
    if (b < a || (Number.isNaN(a) && !Number.isNaN(b))) {
      sorted = false;
      break;
    }
  }
  if (sorted) return idx;
  const key = (i: number) => (Number.isNaN(values[i]) ? Infinity : values[i]);
  // Typed-array sort is not guaranteed stable with a comparator, so break ties by index.
  idx.sort((a, b) => key(a) - key(b) || (Number.isNaN(values[a]) ? 1 : 0) - (Number.isNaN(values[b]) ? 1 : 0) || a - b);
  return idx;
}
