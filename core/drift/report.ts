/**
 * Drift between two raw samples (a reference split vs a batch of new data) for the batch report.
 * Same method choice and verdicts as detectDrift, but the statistics run on the raw values
 * (exact KS for small samples, sample Wasserstein) instead of the profile's histogram.
 */
import type { DriftParams } from '../schemas/params.ts';
import type { Column, Table } from '../data/table.ts';
import { chiSquaredHomogeneity } from './chi2.ts';
import { summarise, resolveDriftParams, verdict, type DatasetDrift, type FeatureDrift } from './detect.ts';
import { jensenShannonDistance } from './divergence.ts';
import { ksTwoSample } from './ks.ts';
import { isMissing } from './result.ts';
import { normaliseByStd, populationStd, wassersteinSamples } from './wasserstein.ts';

export type RawValues = ArrayLike<number> | ArrayLike<string | null | undefined>;
export type FeatureKind = 'numeric' | 'categorical';

function finiteNumbers(values: RawValues, feature: string): { finite: number[]; missing: number } {
  const finite: number[] = [];
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) missing++;
    else if (typeof v !== 'number')
      throw new Error(
        `feature "${feature}" is numeric but value ${i} is ${JSON.stringify(v)}; pass numbers (null or NaN for missing) or declare it categorical`,
      );
    else finite.push(v);
  }
  return { finite, missing };
}

export function numericSampleDrift(
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
  params: DriftParams,
  feature = 'feature',
): FeatureDrift {
  const ref = finiteNumbers(reference, feature).finite;
  const { finite: cur, missing } = finiteNumbers(current, feature);
  const result = verdict('numeric', cur.length, missing, params, (method) =>
    method === 'ks' ? ksTwoSample(ref, cur) : normaliseByStd(wassersteinSamples(ref, cur), populationStd(ref)),
  );
  let lo = Infinity,
    hi = -Infinity,
    outside = 0;
  for (const v of ref) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (const v of cur) if (v < lo || v > hi) outside++;
  return { ...result, out_of_range: cur.length ? outside / cur.length : 0 };
}

export function categoricalSampleDrift(reference: RawValues, current: RawValues, params: DriftParams): FeatureDrift {
  const ref = countValues(reference),
    cur = countValues(current);
  const labels = [...ref.counts.keys()];
  const unseenLabels = [...cur.counts.keys()].filter((k) => !ref.counts.has(k));
  const unseen = unseenLabels.reduce((s, k) => s + cur.counts.get(k)!, 0);
  // Every unseen value pooled into one bucket, as detectDrift does: a flood of new ids is one signal, not many.
  const r = [...labels.map((k) => ref.counts.get(k)!), 0];
  const c = [...labels.map((k) => cur.counts.get(k) ?? 0), unseen];
  const result = verdict('categorical', cur.total, cur.missing, params, (method) =>
    method === 'chi2' ? chiSquaredHomogeneity(r, c) : jensenShannonDistance(r, c),
  );
  return { ...result, unseen };
}

function countValues(values: RawValues): { counts: Map<string, number>; total: number; missing: number } {
  const counts = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) missing++;
    else counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  }
  return { counts, total: values.length - missing, missing };
}

/**
 * Compare raw reference and current values per feature. A feature's kind comes from `kinds`,
 * else from its reference values (numbers → numeric, strings → categorical).
 */
export function driftReport(
  reference: Record<string, RawValues>,
  current: Record<string, RawValues>,
  params?: Partial<DriftParams>,
  kinds: Record<string, FeatureKind> = {},
): DatasetDrift {
  const p = resolveDriftParams(params);
  const features: Record<string, FeatureDrift> = {};
  for (const [name, ref] of Object.entries(reference)) {
    const cur = current[name];
    if (!cur)
      throw new Error(
        `feature "${name}" is in the reference sample but not in the current one (current has: ${Object.keys(current).join(', ')})`,
      );
    const kind = kinds[name] ?? inferKind(ref);
    features[name] =
      kind === 'numeric'
        ? numericSampleDrift(ref as ArrayLike<number>, cur as ArrayLike<number>, p, name)
        : categoricalSampleDrift(ref, cur, p);
  }
  return summarise(features, p);
}

function inferKind(values: RawValues): FeatureKind {
  if (ArrayBuffer.isView(values)) return 'numeric';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string') return 'categorical';
    if (typeof v === 'number') return 'numeric';
  }
  return 'numeric';
}

/** Raw values of a table column: numbers for number/timestamp columns, strings (null = missing) for string columns. */
export function columnValues(c: Column): RawValues {
  if (c.type !== 'string') return c.values;
  return Array.from(c.codes, (code) => (code < 0 ? null : c.dict[code]));
}

/** driftReport over the named columns of two tables (string columns are categorical unless `kinds` says otherwise). */
export function driftReportTables(
  reference: Table,
  current: Table,
  columns: string[],
  params?: Partial<DriftParams>,
  kinds: Record<string, FeatureKind> = {},
): DatasetDrift {
  const pick = (t: Table, which: string) =>
    Object.fromEntries(
      columns.map((name) => {
        const c = t.columns[name];
        if (!c)
          throw new Error(`the ${which} table has no column "${name}" (it has: ${Object.keys(t.columns).join(', ')})`);
        return [name, columnValues(c)];
      }),
    );
  return driftReport(pick(reference, 'reference'), pick(current, 'current'), params, kinds);
}
