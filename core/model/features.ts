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
import {
  addLabelCounts,
  fitTargetSpecFromLabels,
  sortLabelCounts,
  targetNeedsLabels,
  type TargetSpec,
} from './targets.ts';
import { minuteOfDay, MINUTES_PER_DAY, MINUTE_OF_DAY_CYCLE } from './time-of-day.ts';
import { RecurringKeys } from './cross-recurrence.ts';
import { ValueCounts } from './value-counts.ts';

export const OOV_INDEX = 0;
export const OOV_TOKEN = '<OOV>';

export type DatetimePart = (typeof DATETIME_PARTS)[number];
export const PART_CARDINALITY: Record<DatetimePart, number> = {
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

export type FitParams = Pick<Params, 'features' | 'task'> & { data: Pick<Params['data'], 'time_column'> };

export function fitFeatureSpec(train: Table, params: FitParams): FeatureSpec {
  const fitter = new FeatureSpecFitter(params);
  fitter.addBase(train);
  fitter.addCrosses(train);
  return fitter.finish();
}

type ParamsOf<K extends FeatureParams['kind']> = Extract<FeatureParams, { kind: K }>;
type NumericAcc = {
  kind: 'numeric';
  name: string;
  fp: ParamsOf<'numeric'>;
  values: ValueCounts;
  sum: number;
  sumX: number;
  sumSqX: number;
};
type BaseAcc =
  | NumericAcc
  | { kind: 'categorical'; name: string; fp: ParamsOf<'categorical'>; counts: Map<string, number> }
  | { kind: 'datetime'; name: string; fp: ParamsOf<'datetime'>; units: Set<number>[] };
type CrossMeta = { cardinality: number; labels: string[] | null }[];
type CrossAcc = {
  name: string;
  fp: ParamsOf<'cross'>;
  counts: Map<number, number>;
  meta?: CrossMeta;
  recurring?: RecurringKeys | null;
};

/**
 * fitFeatureSpec over training rows that arrive a chunk at a time, in two passes: `addBase` with
 * every chunk (numeric sums and distinct-value counts, category counts, datetime coverage, target
 * labels), then `addCrosses` with every chunk (crosses count combinations of the fitted base
 * vocabularies). It holds counts per distinct value, category and combination, not rows; the spec
 * equals fitFeatureSpec of all chunks together (sums are taken in the same row order).
 */
export class FeatureSpecFitter {
  private readonly base: BaseAcc[];
  private readonly crosses: [string, ParamsOf<'cross'>][];
  private readonly labels: Map<string, number> | undefined;
  private targetSeen = false;
  private fitted?: { spec: FeatureSpec; dropped: DroppedFeature[]; usable: CrossAcc[] };

  constructor(private readonly params: FitParams) {
    const entries = Object.entries(params.features);
    this.base = entries.flatMap(([name, fp]): BaseAcc[] => {
      if (fp.kind === 'numeric')
        return [{ kind: 'numeric', name, fp, values: new ValueCounts(), sum: 0, sumX: 0, sumSqX: 0 }];
      if (fp.kind === 'categorical') return [{ kind: 'categorical', name, fp, counts: new Map() }];
      if (fp.kind === 'datetime') return [{ kind: 'datetime', name, fp, units: fp.parts.map(() => new Set<number>()) }];
      return [];
    });
    this.crosses = entries.filter((e): e is [string, ParamsOf<'cross'>] => e[1].kind === 'cross');
    if (targetNeedsLabels(params.task)) this.labels = new Map();
  }

  /** Pass 1: a chunk of training rows. */
  addBase(train: Table): void {
    if (this.fitted) throw new Error('FeatureSpecFitter: addBase after the base spec was fitted');
    for (const acc of this.base) {
      const c = column(train, acc.name);
      if (acc.kind === 'numeric') addNumeric(acc, c);
      else if (acc.kind === 'categorical') {
        if (c.type !== 'string')
          throw new Error(
            `feature "${acc.name}" is categorical but its column is ${c.type}; declare it as category in validate.schema`,
          );
        for (const [v, n] of countCategories(c)) acc.counts.set(v, (acc.counts.get(v) ?? 0) + n);
      } else {
        if (c.type !== 'timestamp')
          throw new Error(
            `feature "${acc.name}" is datetime but its column is ${c.type}; declare it as timestamp in validate.schema`,
          );
        const minCycles = acc.fp.min_cycles ?? DEFAULT_MIN_CYCLES;
        if (minCycles > 0) acc.fp.parts.forEach((part, i) => addUnits(acc.units[i], c.values, part, minCycles));
      }
    }
    const target = train.columns[this.params.task.target];
    if (target) {
      this.targetSeen = true;
      if (this.labels) addLabelCounts(this.labels, target);
    }
  }

  /** The spec without its crosses, fitted once pass 1 is over: what pass 2 encodes with. */
  baseSpec(): FeatureSpec {
    return this.fitBase().spec;
  }

  /** Pass 2: the same chunks again (`enc`: the chunk already encoded with baseSpec()). */
  addCrosses(train: Table, enc?: EncodedFeatures): void {
    const { spec, usable } = this.fitBase();
    if (!usable.length) return;
    const e = enc ?? encodeFeatures(spec, train);
    const times = column(train, this.params.data.time_column);
    for (const acc of usable) {
      const comps = crossComponents(acc.fp.columns, e, spec, acc.name);
      acc.meta ??= comps.map(({ input, labels }) => ({ cardinality: input.cardinality, labels }));
      const minDays = acc.fp.min_days ?? 0;
      acc.recurring ??= minDays > 0 && times.type !== 'string' ? new RecurringKeys(minDays) : null;
      const keys = new Float64Array(e.rows);
      for (let r = 0; r < e.rows; r++) {
        const key = (keys[r] = crossKey(comps, r));
        if (key >= 0) acc.counts.set(key, (acc.counts.get(key) ?? 0) + 1);
      }
      if (acc.recurring && times.type !== 'string') acc.recurring.add(keys, times.values);
    }
  }

  finish(): FeatureSpec {
    const { spec, dropped, usable } = this.fitBase();
    const features = [...spec.features, ...usable.map(finishCross)];
    const out: FeatureSpec = { version: 1, features, target: spec.target, time_column: spec.time_column };
    if (dropped.length) out.dropped = dropped;
    if (features.length === 0)
      throw new Error(
        `no feature is left to train on: ${dropped.map((d) => `${d.feature} (${d.reason})`).join('; ')}; ingest a longer period or lower features.<name>.min_cycles in params.yaml`,
      );
    return out;
  }

  private fitBase() {
    if (this.fitted) return this.fitted;
    const dropped: DroppedFeature[] = [];
    const features = this.base.flatMap((acc): FeatureDef[] => {
      if (acc.kind === 'numeric') return [fitNumeric(acc)];
      if (acc.kind === 'categorical') return [fitCategorical(acc.name, acc.fp, acc.counts)];
      const kept = seasonalParts(acc.name, acc.fp.parts, acc.units, acc.fp.min_cycles ?? DEFAULT_MIN_CYCLES, dropped);
      return kept.length ? [{ kind: 'datetime', name: acc.name, parts: kept }] : [];
    });
    const labels = this.labels && this.targetSeen ? sortLabelCounts(this.labels) : undefined;
    const spec: FeatureSpec = {
      version: 1,
      features,
      target: fitTargetSpecFromLabels(this.params.task, this.targetSeen ? labels : undefined),
      time_column: this.params.data.time_column,
    };
    const usable = this.crosses
      .filter(([name, fp]) => {
        const gone = fp.columns.find((c) => dropped.some((d) => d.feature === c));
        if (gone) dropped.push({ feature: name, reason: `its component ${gone} was left out` });
        return !gone;
      })
      .map(([name, fp]): CrossAcc => ({ name, fp, counts: new Map() }));
    return (this.fitted = { spec, dropped, usable });
  }
}

/** Add the distinct time units of `times` to `seen`, up to as many as make `minCycles` cycles: beyond that the part is kept whatever else comes. */
function addUnits(seen: Set<number>, times: Float64Array, part: DatetimePart, minCycles: number): void {
  const { unit, perCycle } = PART_CYCLE[part];
  const enough = Math.ceil(minCycles * perCycle);
  for (let i = 0; i < times.length && seen.size < enough; i++) if (Number.isFinite(times[i])) seen.add(unit(times[i]));
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
  units: Set<number>[],
  minCycles: number,
  dropped: DroppedFeature[],
): DatetimePart[] {
  if (minCycles <= 0) return parts;
  return parts.filter((part, i) => {
    const seen = units[i].size;
    const cycles = seen / PART_CYCLE[part].perCycle;
    if (cycles >= minCycles) return true;
    // Rounded down, so a part left out never reads as covering min_cycles.
    const shown = (Math.floor(cycles * 100) / 100).toFixed(2);
    const reason =
      seen === 0
        ? 'the training data has no timestamps'
        : `the training data covers ${seen} ${PART_CYCLE[part].unitName}, ${shown} of its cycles; min_cycles is ${minCycles}`;
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

function finishCross(acc: CrossAcc): CrossFeature {
  const { name, fp, counts, meta = [] } = acc;
  const recurring = acc.recurring ? acc.recurring.result() : null;
  const label = (key: number) => {
    const parts: string[] = [];
    for (let c = meta.length - 1; c >= 0; c--) {
      const { cardinality, labels } = meta[c];
      const i = key % cardinality;
      key = Math.floor(key / cardinality);
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
    ...(recurring ? { min_days: fp.min_days ?? 0 } : {}),
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

function addNumeric(acc: NumericAcc, c: Column): void {
  if (c.type === 'string')
    throw new Error(
      `feature "${acc.name}" is numeric in params.yaml but its column holds text; declare it categorical or fix validate.schema`,
    );
  const { transform } = acc.fp;
  for (const v of c.values) {
    if (!Number.isFinite(v)) continue;
    acc.sum += v;
    const x = forward(transform, v);
    acc.sumX += x;
    acc.sumSqX += x * x;
  }
  acc.values.add(c.values);
}

function fitNumeric(acc: NumericAcc): NumericFeature {
  const { name, fp } = acc;
  const n = acc.values.n;
  if (n === 0)
    throw new Error(`numeric feature "${name}" has no values in the training split; it cannot be standardised`);
  const sorted = acc.values.sorted();
  const fill =
    fp.missing === 'zero' ? 0 : fp.missing === 'mean' ? acc.sum / n : quantileAt(n, (i) => sorted.at(i), 0.5);
  const mean = acc.sumX / n;
  const variance = Math.max(0, acc.sumSqX / n - mean * mean);
  // A constant feature keeps std 1 so it encodes to 0 instead of dividing by zero.
  const std = variance > 1e-12 ? Math.sqrt(variance) : 1;
  return {
    kind: 'numeric',
    name,
    transform: fp.transform,
    mean,
    std,
    fill,
    min: sorted.values[0],
    max: sorted.values[sorted.values.length - 1],
  };
}

function fitCategorical(name: string, fp: ParamsOf<'categorical'>, counts: Map<string, number>): CategoricalFeature {
  const kept = [...counts.entries()]
    .filter(([, n]) => n >= fp.min_frequency)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, fp.max_categories)
    .map(([v]) => v)
    .sort();
  return { kind: 'categorical', name, vocabulary: [OOV_TOKEN, ...kept], min_frequency: fp.min_frequency };
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
  return quantileAt(sorted.length, (i) => sorted[i], q);
}

/** The q-quantile (linear interpolation) of n sorted values, `at(i)` giving the i-th. */
export function quantileAt(n: number, at: (i: number) => number, q: number): number {
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = at(lo);
  return a + (at(hi) - a) * (pos - lo);
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

/** Each spec's numeric features, listed once: serving encodes a request or a few at a time. */
const numericFeatures = new WeakMap<FeatureSpec, NumericFeature[]>();

/**
 * Encode a table with a fitted spec. Missing or unseen values follow the spec's policy.
 * `crosses`: the crosses to encode (default every one); a model that reads none of a cross's
 * indices (a tree ensemble whose inputs leave it out) is scored without its per-row lookups.
 */
export function encodeFeatures(spec: FeatureSpec, table: Table, crosses?: ReadonlySet<string>): EncodedFeatures {
  const n = table.length;
  let numericDefs = numericFeatures.get(spec);
  if (!numericDefs)
    numericFeatures.set(spec, (numericDefs = spec.features.filter((f): f is NumericFeature => f.kind === 'numeric')));
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
      const byCode = new Int32Array(c.dict.length);
      for (let d = 0; d < c.dict.length; d++) byCode[d] = index.get(c.dict[d]) ?? OOV_INDEX;
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
  for (const f of spec.features)
    if (f.kind === 'cross' && (!crosses || crosses.has(f.name))) categorical.push(encodeCross(f, enc, spec));
  return enc;
}
