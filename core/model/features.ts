/**
 * The one definition of every feature transform, used by training and by serving (no skew).
 * `fitFeatureSpec` learns parameters from training rows only; `encodeFeatures` applies them to any
 * table (a 3M-row split or a single API request).
 *
 * Categorical vocabularies reserve index 0 for "out of vocabulary or missing", so unseen values
 * never fail and are countable.
 */
import type { DATETIME_PARTS, FeatureParams, Params } from '../schemas/params.ts';
import type { Column, StringColumn, Table } from '../data/table.ts';
import { fitTargetSpec, type TargetSpec } from './targets.ts';
import { minuteOfDay, MINUTES_PER_DAY, MINUTE_OF_DAY_CYCLE } from './time-of-day.ts';
import { recurringKeys } from './cross-recurrence.ts';

export const OOV_INDEX = 0;
export const OOV_TOKEN = '<OOV>';

export type DatetimePart = (typeof DATETIME_PARTS)[number];
const PART_CARDINALITY: Record<DatetimePart, number> = {
  hour: 24,
  day_of_week: 7,
  month: 12,
  day_of_month: 31,
  minute_of_day: MINUTES_PER_DAY,
};
/** A datetime part is used when the training data covers at least this many of its cycles (params: min_cycles). */
export const DEFAULT_MIN_CYCLES = 2;
/**
 * What one cycle of each datetime part is made of: the calendar unit a value of the part names
 * (an hour, a day, a month: UTC), and how many such units make a cycle (a month has 30.44 days on
 * average).
 */
const PART_CYCLE: Record<DatetimePart, { unit: (t: number) => number; unitName: string; perCycle: number }> = {
  hour: { unit: (t) => Math.floor(t / 3_600_000), unitName: 'hours', perCycle: 24 },
  day_of_week: { unit: (t) => Math.floor(t / 86_400_000), unitName: 'days', perCycle: 7 },
  day_of_month: { unit: (t) => Math.floor(t / 86_400_000), unitName: 'days', perCycle: 30.436875 },
  month: {
    unit: (t) => {
      const d = new Date(t);
      return d.getUTCFullYear() * 12 + d.getUTCMonth();
    },
    unitName: 'months',
    perCycle: 12,
  },
  minute_of_day: MINUTE_OF_DAY_CYCLE,
};

/** How many cycles of `part` the timestamps cover: distinct calendar units seen ÷ units per cycle (outliers add one unit each, not a span). */
export function cyclesCovered(times: ArrayLike<number>, part: DatetimePart): { units: number; cycles: number } {
  const { unit, perCycle } = PART_CYCLE[part];
  const seen = new Set<number>();
  for (let i = 0; i < times.length; i++) if (Number.isFinite(times[i])) seen.add(unit(times[i]));
  return { units: seen.size, cycles: seen.size / perCycle };
}

export interface NumericFeature {
  kind: 'numeric';
  name: string;
  transform: 'standard' | 'log';
  /** Mean and std of the transformed training values. */
  mean: number;
  std: number;
  /** Raw value substituted for missing input (from the missing-value policy). */
  fill: number;
  /** Range seen in training (raw units), for out-of-range monitoring. */
  min: number;
  max: number;
}
export interface CategoricalFeature {
  kind: 'categorical';
  name: string;
  /** vocabulary[0] is the OOV/missing bucket. */
  vocabulary: string[];
  min_frequency: number;
}
export interface DatetimeFeature {
  kind: 'datetime';
  name: string;
  parts: DatetimePart[];
}
/**
 * A feature cross (e.g. route = origin × destination, origin × hour): the combinations of its
 * components' encoded values seen at least `min_frequency` times in training, most frequent first
 * up to `max_categories`; vocabulary[0] is the OOV bucket (unseen combination, or a component that
 * is itself OOV or missing). Components are categorical features or datetime parts (`date.hour`).
 */
export interface CrossFeature {
  kind: 'cross';
  name: string;
  columns: string[];
  /** Each entry joins the components' values with `|`, e.g. `ATL|14`. */
  vocabulary: string[];
  min_frequency: number;
  /** Combinations seen on fewer distinct days of the time column were left out (absent: no such rule). */
  min_days?: number;
}
export type FeatureDef = NumericFeature | CategoricalFeature | DatetimeFeature | CrossFeature;

// The target's definition and encoding live in core/model/targets.ts (binary, multi-class, regression).
export type { TargetSpec } from './targets.ts';
export { encodeTarget } from './targets.ts';

/** A feature of params.yaml that the fitted spec leaves out, and why (e.g. `date.month` over 3 months of training data). */
export interface DroppedFeature {
  feature: string;
  reason: string;
}

export interface FeatureSpec {
  version: 1;
  features: FeatureDef[];
  /** Features of params.yaml left out of this spec by fitting (absent in older specs: none). */
  dropped?: DroppedFeature[];
  target: TargetSpec;
  time_column: string;
}

export interface CategoricalInput {
  name: string;
  cardinality: number;
  indices: Int32Array;
}

export interface EncodedFeatures {
  rows: number;
  /** Row-major, rows × numericNames.length, standardised. */
  numeric: Float32Array;
  numericNames: string[];
  categorical: CategoricalInput[];
  /** Per input column: rows whose value was missing or out of vocabulary. */
  oov: Record<string, number>;
  missing: Record<string, number>;
}

export function fitFeatureSpec(
  train: Table,
  params: Pick<Params, 'features' | 'task'> & { data: Pick<Params['data'], 'time_column'> },
): FeatureSpec {
  const entries = Object.entries(params.features);
  const dropped: DroppedFeature[] = [];
  const features: FeatureDef[] = entries.flatMap(([name, fp]) => {
    if (fp.kind === 'cross') return [];
    const def = fitOne(name, fp, column(train, name));
    if (def.kind !== 'datetime' || fp.kind !== 'datetime') return [def];
    const kept = seasonalParts(name, def.parts, column(train, name), fp.min_cycles ?? DEFAULT_MIN_CYCLES, dropped);
    return kept.length ? [{ ...def, parts: kept }] : [];
  });
  const spec: FeatureSpec = {
    version: 1,
    features,
    target: fitTargetSpec(params.task, train.columns[params.task.target]),
    time_column: params.data.time_column,
  };
  const crosses = entries.filter(
    (e): e is [string, Extract<FeatureParams, { kind: 'cross' }>] => e[1].kind === 'cross',
  );
  const usable = crosses.filter(([name, fp]) => {
    const gone = fp.columns.find((c) => dropped.some((d) => d.feature === c));
    if (gone) dropped.push({ feature: name, reason: `its component ${gone} was left out` });
    return !gone;
  });
  if (usable.length) {
    const base = encodeFeatures(spec, train);
    const times = column(train, params.data.time_column);
    for (const [name, fp] of usable)
      features.push(fitCross(name, fp, base, spec, times.type === 'string' ? undefined : times.values));
  }
  if (dropped.length) spec.dropped = dropped;
  if (features.length === 0)
    throw new Error(
      `no feature is left to train on: ${dropped.map((d) => `${d.feature} (${d.reason})`).join('; ')}; ingest a longer period or lower features.<name>.min_cycles in params.yaml`,
    );
  return spec;
}

/**
 * The datetime parts whose cycle the training data covers at least `minCycles` times. A part seen
 * over less than that (day of week in one week of flights, month in four months) cannot tell a
 * recurring effect from what happened on those particular dates (a storm, a holiday), and a part
 * value never seen in training (May, after January–April) has no effect to learn at all: the
 * model would learn the dates and carry them into the future as if they recurred.
 */
function seasonalParts(
  name: string,
  parts: DatetimePart[],
  c: Column,
  minCycles: number,
  dropped: DroppedFeature[],
): DatetimePart[] {
  if (c.type === 'string' || minCycles <= 0) return parts;
  return parts.filter((part) => {
    const { units, cycles } = cyclesCovered(c.values, part);
    if (cycles >= minCycles) return true;
    // Rounded down, so a part left out never reads as covering min_cycles.
    const shown = (Math.floor(cycles * 100) / 100).toFixed(2);
    const reason =
      units === 0
        ? 'the training data has no timestamps'
        : `the training data covers ${units} ${PART_CYCLE[part].unitName}, ${shown} of its cycles; min_cycles is ${minCycles}`;
    dropped.push({ feature: `${name}.${part}`, reason });
    return false;
  });
}

/** Component inputs of a cross, with a value → index map for each (index 0 = OOV or missing). */
function crossComponents(
  columns: string[],
  enc: Pick<EncodedFeatures, 'categorical'>,
  spec: FeatureSpec,
  name: string,
) {
  return columns.map((col) => {
    const input = enc.categorical.find((c) => c.name === col);
    if (!input) {
      throw new Error(
        `feature cross "${name}": "${col}" is not a categorical feature or datetime part (use one of: ${enc.categorical.map((c) => c.name).join(', ')})`,
      );
    }
    const def = spec.features.find((f) => f.name === col);
    // Datetime parts: index = the part's value, always in range (missing timestamps use 0, as for the part itself).
    const labels = def?.kind === 'categorical' ? def.vocabulary : null;
    return { input, labels };
  });
}

/** The row's combined index over the cross's components, or -1 when a labelled component is out of vocabulary. */
function crossKey(comps: ReturnType<typeof crossComponents>, r: number): number {
  let key = 0;
  for (const { input, labels } of comps) {
    const i = input.indices[r];
    if (labels && i === OOV_INDEX) return -1;
    key = key * input.cardinality + i;
  }
  return key;
}

function fitCross(
  name: string,
  fp: Extract<FeatureParams, { kind: 'cross' }>,
  base: EncodedFeatures,
  spec: FeatureSpec,
  times: Float64Array | undefined,
): CrossFeature {
  const comps = crossComponents(fp.columns, base, spec, name);
  const counts = new Map<number, number>();
  const keys = new Float64Array(base.rows);
  for (let r = 0; r < base.rows; r++) {
    const key = (keys[r] = crossKey(comps, r));
    if (key >= 0) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const minDays = fp.min_days ?? 0;
  const recurring = minDays > 0 && times ? recurringKeys(keys, times, minDays) : null;
  const label = (key: number) => {
    const parts: string[] = [];
    for (let c = comps.length - 1; c >= 0; c--) {
      const { input, labels } = comps[c];
      const i = key % input.cardinality;
      key = Math.floor(key / input.cardinality);
      parts.unshift(labels ? labels[i] : String(i));
    }
    return parts.join('|');
  };
  const kept = [...counts.entries()]
    .filter(([k, n]) => n >= fp.min_frequency && (!recurring || recurring.has(k)))
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, fp.max_categories)
    .map(([k]) => label(k))
    .sort();
  return {
    kind: 'cross',
    name,
    columns: fp.columns,
    vocabulary: [OOV_TOKEN, ...kept],
    min_frequency: fp.min_frequency,
    ...(recurring ? { min_days: minDays } : {}),
  };
}

const crossIndexes = new WeakMap<CrossFeature, Map<number, number>>();

/** Combined component key → cross index, built once per fitted cross. */
function crossIndex(f: CrossFeature, comps: ReturnType<typeof crossComponents>): Map<number, number> {
  let index = crossIndexes.get(f);
  if (!index) {
    index = new Map();
    const lookups = comps.map(({ labels }) => (labels ? new Map(labels.map((v, i) => [v, i])) : null));
    for (let v = 1; v < f.vocabulary.length; v++) {
      const parts = f.vocabulary[v].split('|');
      let key = 0;
      let ok = parts.length === comps.length;
      comps.forEach(({ input }, c) => {
        const i = lookups[c] ? lookups[c].get(parts[c]) : Number(parts[c]);
        if (i === undefined || !Number.isInteger(i) || i < 0 || i >= input.cardinality) ok = false;
        key = key * input.cardinality + (i ?? 0);
      });
      if (ok) index.set(key, v);
    }
    crossIndexes.set(f, index);
  }
  return index;
}

function encodeCross(f: CrossFeature, enc: EncodedFeatures, spec: FeatureSpec): CategoricalInput {
  const comps = crossComponents(f.columns, enc, spec, f.name);
  const index = crossIndex(f, comps);
  const indices = new Int32Array(enc.rows);
  for (let r = 0; r < enc.rows; r++) {
    const key = crossKey(comps, r);
    indices[r] = key < 0 ? OOV_INDEX : (index.get(key) ?? OOV_INDEX);
  }
  return { name: f.name, cardinality: f.vocabulary.length, indices };
}

function column(t: Table, name: string): Column {
  const c = t.columns[name];
  if (!c)
    throw new Error(
      `feature "${name}" has no column in the data (columns: ${Object.keys(t.columns).join(', ')}); fix features in params.yaml`,
    );
  return c;
}

function fitOne(name: string, fp: Exclude<FeatureParams, { kind: 'cross' }>, c: Column): FeatureDef {
  if (fp.kind === 'numeric') {
    if (c.type === 'string')
      throw new Error(
        `feature "${name}" is numeric in params.yaml but its column holds text; declare it categorical or fix validate.schema`,
      );
    const finite = c.values.filter((v) => Number.isFinite(v));
    if (finite.length === 0)
      throw new Error(`numeric feature "${name}" has no values in the training split; it cannot be standardised`);
    const sorted = Float64Array.from(finite).sort();
    const fill =
      fp.missing === 'zero'
        ? 0
        : fp.missing === 'mean'
          ? finite.reduce((s, v) => s + v, 0) / finite.length
          : quantileSorted(sorted, 0.5);
    let sum = 0,
      sumSq = 0;
    for (const v of finite) {
      const x = forward(fp.transform, v);
      sum += x;
      sumSq += x * x;
    }
    const mean = sum / finite.length;
    const variance = Math.max(0, sumSq / finite.length - mean * mean);
    // A constant feature keeps std 1 so it encodes to 0 instead of dividing by zero.
    const std = variance > 1e-12 ? Math.sqrt(variance) : 1;
    return {
      kind: 'numeric',
      name,
      transform: fp.transform,
      mean,
      std,
      fill,
      min: sorted[0],
      max: sorted[sorted.length - 1],
    };
  }
  if (fp.kind === 'categorical') {
    if (c.type !== 'string')
      throw new Error(
        `feature "${name}" is categorical but its column is ${c.type}; declare it as category in validate.schema`,
      );
    const counts = countCategories(c);
    const kept = [...counts.entries()]
      .filter(([, n]) => n >= fp.min_frequency)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, fp.max_categories)
      .map(([v]) => v)
      .sort();
    return { kind: 'categorical', name, vocabulary: [OOV_TOKEN, ...kept], min_frequency: fp.min_frequency };
  }
  if (c.type !== 'timestamp')
    throw new Error(
      `feature "${name}" is datetime but its column is ${c.type}; declare it as timestamp in validate.schema`,
    );
  return { kind: 'datetime', name, parts: fp.parts };
}

export function countCategories(c: StringColumn): Map<string, number> {
  const byCode = new Float64Array(c.dict.length);
  for (const code of c.codes) if (code >= 0) byCode[code]++;
  const counts = new Map<string, number>();
  byCode.forEach((n, code) => n > 0 && counts.set(c.dict[code], (counts.get(c.dict[code]) ?? 0) + n));
  return counts;
}

function forward(transform: 'standard' | 'log', v: number): number {
  // Signed log keeps negative values ordered and finite.
  return transform === 'log' ? Math.sign(v) * Math.log1p(Math.abs(v)) : v;
}

export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function datetimePart(ms: number, part: DatetimePart): number {
  return dateParts(new Date(ms), part);
}

function dateParts(d: Date, part: DatetimePart): number {
  switch (part) {
    case 'hour':
      return d.getUTCHours();
    case 'day_of_week':
      return d.getUTCDay();
    case 'month':
      return d.getUTCMonth();
    case 'day_of_month':
      return d.getUTCDate() - 1;
    case 'minute_of_day':
      return minuteOfDay(d);
  }
}

const vocabularyIndexes = new WeakMap<CategoricalFeature, Map<string, number>>();

/** value → index, built once per fitted feature (serving encodes one-row tables thousands of times a second). */
function vocabularyIndex(f: CategoricalFeature): Map<string, number> {
  let index = vocabularyIndexes.get(f);
  if (!index) {
    index = new Map(f.vocabulary.map((v, i) => [v, i]));
    vocabularyIndexes.set(f, index);
  }
  return index;
}

/** Encode a table with a fitted spec. Missing or unseen values follow the spec's policy. */
export function encodeFeatures(spec: FeatureSpec, table: Table): EncodedFeatures {
  const n = table.length;
  const numericDefs = spec.features.filter((f): f is NumericFeature => f.kind === 'numeric');
  const width = numericDefs.length;
  const numeric = new Float32Array(n * width);
  const oov: Record<string, number> = {};
  const missing: Record<string, number> = {};
  numericDefs.forEach((f, j) => {
    const c = column(table, f.name);
    if (c.type === 'string') throw new Error(`feature "${f.name}" must be numeric, got text`);
    let miss = 0;
    const fillX = (forward(f.transform, f.fill) - f.mean) / f.std;
    for (let r = 0; r < n; r++) {
      const v = c.values[r];
      if (Number.isFinite(v)) numeric[r * width + j] = (forward(f.transform, v) - f.mean) / f.std;
      else {
        numeric[r * width + j] = fillX;
        miss++;
      }
    }
    missing[f.name] = miss;
  });
  const categorical: CategoricalInput[] = [];
  for (const f of spec.features) {
    if (f.kind === 'categorical') {
      const c = column(table, f.name);
      if (c.type !== 'string') throw new Error(`feature "${f.name}" must be text, got ${c.type}`);
      const index = vocabularyIndex(f);
      const byCode = Int32Array.from(c.dict, (s) => index.get(s) ?? OOV_INDEX);
      const indices = new Int32Array(n);
      let unseen = 0,
        miss = 0;
      for (let r = 0; r < n; r++) {
        const code = c.codes[r];
        const idx = code < 0 ? OOV_INDEX : byCode[code];
        if (code < 0) miss++;
        else if (idx === OOV_INDEX) unseen++;
        indices[r] = idx;
      }
      oov[f.name] = unseen;
      missing[f.name] = miss;
      categorical.push({ name: f.name, cardinality: f.vocabulary.length, indices });
    } else if (f.kind === 'datetime') {
      const c = column(table, f.name);
      if (c.type === 'string') throw new Error(`feature "${f.name}" must be a timestamp, got text`);
      let miss = 0;
      const parts = f.parts.map((p) => ({ p, indices: new Int32Array(n) }));
      for (let r = 0; r < n; r++) {
        const v = c.values[r];
        if (!Number.isFinite(v)) {
          // Missing timestamps use index 0 of each part (a documented default, counted in `missing`).
          miss++;
          for (const part of parts) part.indices[r] = 0;
          continue;
        }
        const d = new Date(v); // one Date per row, not one per part: this runs per request in serving
        for (const part of parts) part.indices[r] = dateParts(d, part.p);
      }
      missing[f.name] = miss;
      for (const part of parts)
        categorical.push({ name: `${f.name}.${part.p}`, cardinality: PART_CARDINALITY[part.p], indices: part.indices });
    }
  }
  const enc: EncodedFeatures = {
    rows: n,
    numeric,
    numericNames: numericDefs.map((f) => f.name),
    categorical,
    oov,
    missing,
  };
  // Crosses come last (they read their components' indices), in spec order.
  for (const f of spec.features) if (f.kind === 'cross') categorical.push(encodeCross(f, enc, spec));
  return enc;
}
