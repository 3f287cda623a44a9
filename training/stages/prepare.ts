/**
 * Stage `prepare`: validated rows → train/validation/test splits (clean columnar Parquet), the
 * feature spec fitted on train only, and the reference profile of the training inputs.
 */
import { join } from 'node:path';
import { writeMetricsFile } from '../../core/schemas/metrics-files.ts';
import { replaceDirAtomic, writeJsonAtomic } from '../../core/platform/atomic.ts';
import { readParquetTable, writeParquetTable } from '../../core/data/parquet.ts';
import { takeRows, type Table } from '../../core/data/table.ts';
import {
  encodeFeatures,
  encodeTarget,
  fitFeatureSpec,
  type FeatureSpec,
  type TargetSpec,
} from '../../core/model/features.ts';
import { profileTable } from '../../core/model/profile.ts';
import { hashSplit, indicesOf, SPLIT_NAMES, timeSplit } from '../../core/data/split.ts';
import { formatTimestamp } from '../../core/platform/time.ts';
import { ROW_COLUMN } from '../../core/data/csv.ts';
import type { Logger } from '../../core/platform/log.ts';
import { FEATURE_SPEC_FILE, PREPARED_DIR, PROFILE_FILE, VALIDATED_DIR, VALIDATED_FILE } from '../contracts/paths.ts';
import { prepareStage } from '../contracts/prepare.ts';
import type { StageParams } from '../contracts/contract.ts';
import { isMain, runStage } from '../stage-cli.ts';

export { FEATURE_SPEC_FILE, PREPARE_METRICS, PREPARED_DIR, PROFILE_FILE } from '../contracts/paths.ts';

type Params = StageParams<typeof prepareStage>;

export function splitTable(table: Table, params: Params): Uint8Array {
  const s = params.split;
  if (s.method === 'time') {
    const c = table.columns[params.data.time_column];
    if (!c || c.type === 'string')
      throw new Error(`time split needs the timestamp column "${params.data.time_column}"`);
    return timeSplit(c.values, s.validation_fraction, s.test_fraction);
  }
  return hashSplit(
    table,
    s.hash_key ?? Object.keys(params.validate.schema),
    s.validation_fraction,
    s.test_fraction,
    s.seed,
  );
}

function splitSummary(name: string, t: Table, params: Params, targetSpec: TargetSpec) {
  const time = t.columns[params.data.time_column];
  let first = Infinity,
    last = -Infinity;
  if (time && time.type !== 'string')
    for (const v of time.values) {
      if (v < first) first = v;
      if (v > last) last = v;
    }
  const target = encodeTarget(targetSpec, t.columns[params.task.target]);
  const share = (n: number) => (t.length ? Math.round((n / t.length) * 1e6) / 1e6 : null);
  if (targetSpec.classes) {
    // Multi-class: each class's share of the split, keyed by class name (DVC shows a flat map).
    const counts = new Array<number>(targetSpec.classes.length).fill(0);
    for (const y of target) counts[y]++;
    return {
      [`${name}_rows`]: t.length,
      [`${name}_first_time`]: formatTimestamp(first),
      [`${name}_last_time`]: formatTimestamp(last),
      ...Object.fromEntries(targetSpec.classes.map((c, i) => [`${name}_class_share_${c}`, share(counts[i])])),
    };
  }
  let sum = 0;
  for (const y of target) sum += y;
  return {
    [`${name}_rows`]: t.length,
    [`${name}_first_time`]: formatTimestamp(first),
    [`${name}_last_time`]: formatTimestamp(last),
    [params.task.type === 'classification' ? `${name}_positive_rate` : `${name}_target_mean`]: t.length
      ? Math.round((sum / t.length) * 1e6) / 1e6
      : null,
  };
}

export async function prepare(options: {
  repoRoot: string;
  params: Params;
  log: Logger;
}): Promise<{ spec: FeatureSpec; metrics: Record<string, unknown> }> {
  const { repoRoot, log } = options;
  const params = prepareStage.params(options.params);
  const table = await readParquetTable(join(repoRoot, VALIDATED_DIR, VALIDATED_FILE));
  if (table.length < 10)
    throw new Error(
      `only ${table.length} validated rows: too few to split into train/validation/test (at least 10); if the source has more records, ingest them (npm run ingest; params.yaml ingest.batches_per_run: 0 takes every batch), otherwise point data.source at a larger table — see metrics/validate.json for rows rejected`,
    );
  const keep = [
    ...new Set([params.data.time_column, params.task.target, ...Object.keys(params.features), ROW_COLUMN]),
  ].filter((c) => table.columns[c]);
  const clean: Table = { length: table.length, columns: Object.fromEntries(keep.map((c) => [c, table.columns[c]])) };

  log.info(`splitting ${clean.length} rows (${params.split.method})`);
  const assignment = splitTable(clean, params);
  const splits = SPLIT_NAMES.map((_, i) => takeRows(clean, indicesOf(assignment, i)));
  const [train] = splits;
  for (const [i, s] of splits.entries())
    if (s.length === 0)
      throw new Error(
        `the ${SPLIT_NAMES[i]} split is empty; ingest more data or change split fractions in params.yaml`,
      );

  const spec = fitFeatureSpec(train, params);
  for (const d of spec.dropped ?? []) log.info(`feature ${d.feature} left out: ${d.reason}`);
  const profile = profileTable(train, spec, {
    bins: params.profile.bins,
    topCategories: params.profile.top_categories,
  });
  // Encoding every split here proves the spec applies cleanly and measures unseen categories.
  const oovShare: Record<string, number> = {};
  for (const [i, s] of splits.entries()) {
    const enc = encodeFeatures(spec, s);
    for (const [name, n] of Object.entries(enc.oov))
      oovShare[`${SPLIT_NAMES[i]}_oov_rate_${name}`] = Math.round((n / s.length) * 1e6) / 1e6;
  }
  await replaceDirAtomic(join(repoRoot, PREPARED_DIR), async (dir) => {
    for (const [i, s] of splits.entries()) await writeParquetTable(join(dir, `${SPLIT_NAMES[i]}.parquet`), s);
    await writeJsonAtomic(join(dir, FEATURE_SPEC_FILE), spec);
    await writeJsonAtomic(join(dir, PROFILE_FILE), profile);
  });
  const vocab = Object.fromEntries(
    spec.features
      .filter((f) => f.kind === 'categorical')
      .map((f): [string, number] => [
        `vocabulary_size_${f.name}`,
        (f as { vocabulary: string[] }).vocabulary.length - 1,
      ]),
  );
  const metrics = {
    split_method: params.split.method,
    rows: clean.length,
    ...Object.fromEntries(
      splits.flatMap((s, i) => Object.entries(splitSummary(SPLIT_NAMES[i], s, params, spec.target))),
    ),
    ...vocab,
    // Features of params.yaml the fitted spec leaves out (e.g. a day of week seen over one week), or null.
    features_left_out: spec.dropped?.map((d) => d.feature).join(', ') || null,
    ...oovShare,
  };
  await writeMetricsFile(repoRoot, 'prepare', metrics);
  log.info(`train ${splits[0].length}, validation ${splits[1].length}, test ${splits[2].length} rows`, vocab);
  return { spec, metrics };
}

if (isMain(import.meta.url)) {
  await runStage(prepareStage, prepare);
}
