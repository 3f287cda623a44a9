/**
 * Seeded synthetic drift on Tables, to test that monitoring notices what it should: shift or
 * scale a numeric column by multiples of its standard deviation, change a categorical mix,
 * inject missing values. Every function returns a new Table and leaves its input untouched;
 * the same seed always gives the same table.
 */
import { MISSING_CODE, type Column, type NumberColumn, type StringColumn, type Table } from '../data/table.ts';
import { populationStd } from './wasserstein.ts';
import { seededRandom } from '../platform/random.ts';

function withColumn(table: Table, name: string, column: Column): Table {
  return { length: table.length, columns: { ...table.columns, [name]: column } };
}

function numberColumn(table: Table, name: string): NumberColumn {
  const c = table.columns[name];
  if (!c) throw new Error(`no column "${name}" to drift; the table has: ${Object.keys(table.columns).join(', ')}`);
  if (c.type !== 'number') throw new Error(`column "${name}" is ${c.type}; shift and scale need a number column`);
  return c;
}

function stringColumn(table: Table, name: string): StringColumn {
  const c = table.columns[name];
  if (!c) throw new Error(`no column "${name}" to drift; the table has: ${Object.keys(table.columns).join(', ')}`);
  if (c.type !== 'string')
    throw new Error(`column "${name}" is ${c.type}; changing the category mix needs a string column`);
  return c;
}

/** Add k standard deviations (of the column itself unless `std` is given) to every value; missing stays missing. */
export function shiftNumeric(table: Table, name: string, k: number, std?: number): Table {
  const c = numberColumn(table, name);
  const delta = k * (std ?? populationStd(c.values));
  return withColumn(table, name, { type: 'number', values: c.values.map((v) => v + delta) });
}

/** Stretch values around their mean by `factor` (2 doubles the standard deviation, keeps the mean). */
export function scaleNumeric(table: Table, name: string, factor: number): Table {
  const c = numberColumn(table, name);
  let sum = 0,
    n = 0;
  for (const v of c.values) {
    if (!Number.isFinite(v)) continue;
    sum += v;
    n++;
  }
  const mean = n ? sum / n : 0;
  return withColumn(table, name, { type: 'number', values: c.values.map((v) => mean + factor * (v - mean)) });
}

/**
 * Redraw each non-missing value with probability `fraction` from `weights` (value → relative
 * weight; values new to the column are added to its dictionary). fraction = 1 replaces the mix.
 */
export function changeCategoryMix(
  table: Table,
  name: string,
  weights: Record<string, number>,
  options: { fraction?: number; seed: number },
): Table {
  const c = stringColumn(table, name);
  const fraction = options.fraction ?? 1;
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  if (!entries.length || !(total > 0))
    throw new Error('changeCategoryMix needs at least one category with a positive weight');
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`fraction must be within [0, 1], got ${fraction}`);
  const dict = [...c.dict];
  const codeOf = (value: string) => {
    let code = dict.indexOf(value);
    if (code < 0) code = dict.push(value) - 1;
    return code;
  };
  const cumulative: { code: number; upTo: number }[] = [];
  let acc = 0;
  for (const [value, w] of entries) cumulative.push({ code: codeOf(value), upTo: (acc += w / total) });
  const random = seededRandom(options.seed);
  const codes = c.codes.map((code) => {
    if (code === MISSING_CODE || random() >= fraction) return code;
    const u = random();
    return (cumulative.find((b) => u < b.upTo) ?? cumulative[cumulative.length - 1]).code;
  });
  return withColumn(table, name, { type: 'string', codes, dict });
}

/** Make each value of the named columns missing with probability `fraction`. */
export function injectMissing(table: Table, names: string[], fraction: number, seed: number): Table {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`fraction must be within [0, 1], got ${fraction}`);
  const random = seededRandom(seed);
  let out = table;
  for (const name of names) {
    const c = table.columns[name];
    if (!c) throw new Error(`no column "${name}" to blank; the table has: ${Object.keys(table.columns).join(', ')}`);
    const column: Column =
      c.type === 'string'
        ? { type: 'string', codes: c.codes.map((code) => (random() < fraction ? MISSING_CODE : code)), dict: c.dict }
        : { type: c.type, values: c.values.map((v) => (random() < fraction ? NaN : v)) };
    out = withColumn(out, name, column);
  }
  return out;
}

/** Standard normal draws (Box–Muller) from a seeded generator, for building test tables. */
export function normalSample(n: number, seed: number, mean = 0, std = 1): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const theta = 2 * Math.PI * random();
    out[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(theta);
  }
  return out;
}
