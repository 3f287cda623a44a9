/**
 * Batch drift between a reference (a model bundle's profile, or a data file profiled on the spot)
 * and a current data file, with the same binning, methods and thresholds as the live monitor.
 * `npm run drift -- --reference <bundle dir | data> --current <data> [--out drift-report]`
 * writes drift.json, drift.md and one PNG per feature. A bundle reference also scores the batch
 * and reports prediction drift (./drift-predictions.ts), apart from the inputs' verdict.
 */
import { join } from 'node:path';
import {
  binAgainst,
  categoricalVectors,
  numericVectors,
  detectDrift,
  type CurrentWindow,
  type DatasetDrift,
  type NumericWindow,
  type CategoricalWindow,
} from '../core/drift/index.ts';
import { datetimePart, fitFeatureSpec, type DroppedFeature, type FeatureSpec } from '../core/model/features.ts';
import {
  profiledNumbers,
  profiledSource,
  profileTable,
  type FeatureProfile,
  type ReferenceProfile,
} from '../core/model/profile.ts';
import { readArtifactFile } from '../core/model/artifact-files.ts';
import { BUNDLE_META_FILE, readBundleMeta } from '../core/schemas/bundle-meta.ts';
import { readParquetTable } from '../core/data/parquet.ts';
import { readTextTable, textFormatOf } from '../core/data/json.ts';
import { validateTable } from '../core/data/validation.ts';
import { distributionChart } from '../core/charts/index.ts';
import { replaceDirAtomic, writeFileAtomic, writeJsonAtomic, exists } from '../core/platform/atomic.ts';
import type { Params } from '../core/schemas/params.ts';
import type { Table } from '../core/data/table.ts';
import type { Logger } from '../core/platform/log.ts';
import { bundlePredictionDrift, type PredictionDriftOutcome } from './drift-predictions.ts';

/** The inputs' verdict (dataset_drift counts inputs only, as the live monitor does) and, for a bundle reference, the predictions'. */
export type BatchDrift = DatasetDrift & {
  predictions: PredictionDriftOutcome;
  /** Inputs a data-file reference could not profile (a date part it covers too few cycles of), and why. */
  left_out?: DroppedFeature[];
};

/**
 * Why no input was judged (every one had too few values: fewer rows than drift.min_window), or
 * null when at least one was. A batch nothing was judged on is neither drift nor no drift.
 */
export function notJudged(result: DatasetDrift): string | null {
  const names = Object.keys(result.features);
  if (names.length === 0 || result.insufficient_features.length < names.length) return null;
  return result.features[names[0]].reason ?? 'too few values in the current batch';
}

/**
 * A data file as a typed table with the schema of params.yaml (CSV is validated; bad rows dropped).
 * The label column (task.target) is optional: drift judges the inputs (and the model's outputs),
 * and a new production batch has no labels yet. A label column that is there is validated as usual.
 */
export async function loadData(path: string, params: Params): Promise<Table> {
  if (/\.parquet$/i.test(path)) return readParquetTable(path);
  const { table } = await readTextTable(path, textFormatOf(path), { maxFieldBytes: params.validate.max_field_bytes });
  return validateTable(table, withoutAbsentLabel(params.validate.schema, table, params.task.target)).clean;
}

/** `schema` without the label's rule when `table` has no label column. */
function withoutAbsentLabel<R>(schema: Record<string, R>, table: Table, target: string): Record<string, R> {
  if (table.columns[target]) return schema;
  return Object.fromEntries(Object.entries(schema).filter(([name]) => name !== target));
}

/** params with a bundle's input schema and target in place of params.yaml's, for reading a batch to judge against it. */
async function bundleReading(dir: string, params: Params): Promise<Params> {
  const meta = await readBundleMeta(dir);
  const spec: FeatureSpec = await readArtifactFile(dir, 'featureSpec', 'train');
  const target = spec.target.column;
  // A label column present is still validated, by params.yaml's rule for it when it has one.
  const label = params.validate.schema[target];
  return {
    ...params,
    validate: { ...params.validate, schema: { ...meta.input_schema, ...(label ? { [target]: label } : {}) } },
    task: { ...params.task, target },
  };
}

export async function referenceProfile(
  path: string,
  params: Params,
): Promise<{ profile: ReferenceProfile; kind: 'bundle' | 'data'; leftOut: DroppedFeature[] }> {
  if (await exists(join(path, BUNDLE_META_FILE)))
    return { profile: await readArtifactFile(path, 'bundleProfile', 'train'), kind: 'bundle', leftOut: [] };
  const table = await loadData(path, params);
  // The profile needs the input features only: an unlabelled reference must not need the labels
  // that a multi-class task (classes: auto) fits its class list from.
  const task = table.columns[params.task.target] ? params.task : { ...params.task, classes: undefined };
  const spec = fitFeatureSpec(table, { ...params, task });
  return {
    profile: profileTable(table, spec, {
      bins: params.profile.bins,
      topCategories: params.profile.top_categories,
    }),
    kind: 'data',
    // The date parts it covers too few cycles of (crosses are not profiled, so theirs do not count).
    leftOut: (spec.dropped ?? []).filter((d) =>
      Object.entries(params.features).some(([name, f]) => f.kind === 'datetime' && d.feature.startsWith(`${name}.`)),
    ),
  };
}

/**
 * Bin the current table against every feature of the profile (date parts derived like training does).
 * `into`: the windows of the rows before (a table read a row group at a time), extended in place.
 */
export function currentWindows(profile: ReferenceProfile, table: Table, into?: CurrentWindow): CurrentWindow {
  const out: CurrentWindow = into ?? { numeric: {}, categorical: {} };
  for (const [name, prof] of Object.entries(profile.features)) {
    const { column, part } = profiledSource(name, table.columns);
    const c = table.columns[column];
    if (!c)
      throw new Error(`the current data has no column "${column}" (it has: ${Object.keys(table.columns).join(', ')})`);
    if (prof.kind === 'numeric') {
      if (c.type === 'string') throw new Error(`"${column}" is numeric in the reference but text in the current data`);
      out.numeric[name] = binAgainst(prof, profiledNumbers(c, part), out.numeric[name]);
    } else if (part) {
      if (c.type === 'string') throw new Error(`"${column}" must be a timestamp column`);
      out.categorical[name] = binAgainst(
        prof,
        Array.from(c.values, (v) => (Number.isFinite(v) ? String(datetimePart(v, part)) : null)),
        out.categorical[name],
      );
    } else {
      out.categorical[name] = binAgainst(
        prof,
        c.type === 'string'
          ? Array.from(c.codes, (k) => (k < 0 ? null : c.dict[k]))
          : Array.from(c.values, (v) => (Number.isFinite(v) ? String(v) : null)),
        out.categorical[name],
      );
    }
  }
  return out;
}

const row = (name: string, f: DatasetDrift['features'][string]) =>
  `| ${name} | ${f.method} | ${f.score === null ? '—' : f.score.toFixed(4)} | ${f.p_value === undefined || f.p_value === null ? '—' : f.p_value.toExponential(2)} | ${f.threshold} | ${f.status !== 'ok' ? 'n/a' : f.drifted ? '⚠️ yes' : 'no'} |`;
const header = (first: string) => [
  `| ${first} | method | score | p-value | threshold | drifted |`,
  '|---|---|---:|---:|---:|:---:|',
];

function predictionLines(p: PredictionDriftOutcome | undefined): string[] {
  if (!p) return [];
  if (p.skipped !== undefined) return ['## Predictions', '', `Prediction drift not computed: ${p.skipped}.`, ''];
  return [
    '## Predictions',
    '',
    `The model's outputs for the current rows against its training predictions: **${p.drifted ? `prediction drift (${p.drifted_tracks.join(', ')})` : 'no prediction drift'}**.`,
    '',
    ...header('output'),
    ...Object.entries(p.tracks).map(([name, f]) => row(name, f)),
    '',
    ...Object.keys(p.tracks).map((name) => `![${name}](${chartFile(name)})`),
    '',
  ];
}

export function driftMarkdown(
  result: DatasetDrift & { predictions?: PredictionDriftOutcome },
  meta: { reference: string; current: string; rows: number },
): string {
  const unjudged = notJudged(result);
  const lines = [
    `# Drift: ${meta.current} vs ${meta.reference}`,
    '',
    unjudged !== null
      ? `${meta.rows.toLocaleString('en-US')} current rows. **Not judged**: ${unjudged}; no feature was compared. Check a batch of at least that many rows (or lower drift.min_window in params.yaml).`
      : `${meta.rows.toLocaleString('en-US')} current rows. **${result.dataset_drift ? 'Dataset drift' : 'No dataset drift'}**: ${result.drifted_features.length} of ${Object.keys(result.features).length - result.insufficient_features.length} features drifted (${(result.drift_share * 100).toFixed(0)} %).`,
    '',
    ...header('feature'),
    ...Object.entries(result.features).map(([name, f]) => row(name, f)),
    '',
    ...Object.keys(result.features).map((name) => `![${name}](${chartFile(name)})`),
    '',
    ...predictionLines(result.predictions),
  ];
  return lines.join('\n') + '\n';
}

const chartFile = (feature: string) => `drift-${feature.replace(/[^A-Za-z0-9_.-]/g, '_')}.png`;

/** Reference and current shares per bin, labelled, for one feature's chart. */
function chartBins(prof: FeatureProfile, window: NumericWindow | CategoricalWindow) {
  const vectors =
    prof.kind === 'numeric'
      ? {
          labels: [
            'below',
            ...prof.histogram.edges
              .slice(0, -1)
              .map((e, i) => `${e.toPrecision(3)}–${prof.histogram.edges[i + 1].toPrecision(3)}`),
            'above',
          ],
          ...numericVectors(prof, window as NumericWindow),
        }
      : categoricalVectors(prof, window as CategoricalWindow);
  const totalR = vectors.reference.reduce((a, b) => a + b, 0) || 1;
  const totalC = vectors.current.reduce((a, b) => a + b, 0) || 1;
  return vectors.labels.map((bin, i) => ({
    bin,
    train: vectors.reference[i] / totalR,
    test: vectors.current[i] / totalC,
  }));
}

export async function batchDrift(options: {
  reference: string;
  current: string;
  out: string;
  params: Params;
  log: Logger;
}): Promise<BatchDrift> {
  const { params, log } = options;
  const { profile, kind, leftOut } = await referenceProfile(options.reference, params);
  if (leftOut.length)
    log.warn(
      `the reference leaves out ${leftOut.map((d) => `${d.feature} (${d.reason})`).join('; ')}: not judged; a model bundle as --reference, or a reference covering more time, judges them`,
    );
  // Against a model bundle, the batch is read with the model's own input schema and target:
  // params.yaml may describe another dataset by now (the README's examples, then the flights).
  const current = await loadData(
    options.current,
    kind === 'bundle' ? await bundleReading(options.reference, params) : params,
  );
  log.info(`comparing ${current.length} current rows with the ${kind} reference (${profile.rows} rows)`);
  const windows = currentWindows(profile, current);
  const inputs = detectDrift(profile, windows, params.drift);
  const scored =
    kind === 'bundle'
      ? await bundlePredictionDrift(options.reference, current, params.drift, log)
      : {
          outcome: { skipped: 'the reference is a data file, not a model bundle' },
          profiles: {},
          windows: {},
        };
  const result: BatchDrift = {
    ...inputs,
    predictions: scored.outcome,
    ...(leftOut.length ? { left_out: leftOut } : {}),
  };
  const charts = [
    ...Object.entries(profile.features).map(([name, prof]) => ({
      name,
      bins: chartBins(prof, prof.kind === 'numeric' ? windows.numeric[name] : windows.categorical[name]),
    })),
    ...Object.entries(scored.profiles).map(([name, prof]) => ({ name, bins: chartBins(prof, scored.windows[name]) })),
  ];
  await replaceDirAtomic(options.out, async (dir) => {
    for (const { name, bins } of charts) {
      const chart = await distributionChart(name, bins, { title: `${name}: reference vs current` });
      await writeFileAtomic(join(dir, chartFile(name)), chart.png);
    }
    await writeJsonAtomic(join(dir, 'drift.json'), {
      reference: options.reference,
      current: options.current,
      rows: current.length,
      ...result,
    });
    await writeFileAtomic(
      join(dir, 'drift.md'),
      driftMarkdown(result, { reference: options.reference, current: options.current, rows: current.length }) +
        (leftOut.length
          ? `\nNot judged, left out of the reference's profile: ${leftOut.map((d) => `${d.feature} (${d.reason})`).join('; ')}.\n`
          : ''),
    );
  });
  const p = result.predictions;
  const unjudged = notJudged(result);
  if (unjudged !== null) {
    log.warn(`not judged: ${unjudged}; no feature was compared; report in ${options.out}/drift.md`);
    return result;
  }
  log.info(
    `${result.dataset_drift ? 'dataset drift' : 'no dataset drift'}: ${result.drifted_features.join(', ') || 'no feature'} drifted; ` +
      (p.skipped !== undefined
        ? `prediction drift not computed (${p.skipped})`
        : `${p.drifted ? `prediction drift in ${p.drifted_tracks.join(', ')}` : 'no prediction drift'}`) +
      `; report in ${options.out}/drift.md`,
  );
  return result;
}
