/**
 * Stage `prepare`: validated rows → train/validation/test splits (clean columnar Parquet), the
 * feature spec fitted on train only, and the reference profile of the training inputs.
 */
import { join } from 'node:path';
import { writeMetricsFile } from '../../core/schemas/metrics-files.ts';
import { ROW_ORDER } from '../../core/schemas/params.ts';
import { replaceDirAtomic, writeJsonAtomic } from '../../core/platform/atomic.ts';
import {
  openParquet,
  openParquetTableWriter,
  readParquetRowGroups,
  readParquetTable,
  type ParquetSource,
} from '../../core/data/parquet.ts';
import { takeRows, type Table } from '../../core/data/table.ts';
import {
  encodeFeatures,
  encodeTarget,
  FeatureSpecFitter,
  type FeatureSpec,
  type TargetSpec,
} from '../../core/model/features.ts';
import { ProfileAccumulator } from '../../core/model/profile.ts';
import {
  hashSplit,
  indicesOf,
  SortedTimeCuts,
  splitByCuts,
  SPLIT_NAMES,
  timeSplit,
  TRAIN,
} from '../../core/data/split.ts';
import { formatOrderValue } from '../../core/platform/time.ts';
import { ROW_COLUMN } from '../../core/data/csv.ts';
import type { Logger } from '../../core/platform/log.ts';
import { FEATURE_SPEC_FILE, PREPARED_DIR, PROFILE_FILE, VALIDATED_DIR, VALIDATED_FILE } from '../contracts/paths.ts';
import { prepareStage } from '../contracts/prepare.ts';
import type { StageParams } from '../contracts/contract.ts';
import { isMain, runStage } from '../stage-cli.ts';

export { FEATURE_SPEC_FILE, PREPARE_METRICS, PREPARED_DIR, PROFILE_FILE } from '../contracts/paths.ts';

type Params = StageParams<typeof prepareStage>;
type Chunk = Table & { rowStart: number };

/**
 * The split of each row group. A time split over a column in time order (what ingest writes) is
 * two row positions found in one pass over the time column; out of order, the column is read
 * whole and sorted (8 bytes a row) as before. A hash split is per row.
 */
async function splitAssigner(src: ParquetSource, params: Params, log: Logger): Promise<(chunk: Chunk) => Uint8Array> {
  const s = params.split;
  if (s.method === 'hash') {
    const key = s.hash_key ?? Object.keys(params.validate.schema);
    return (chunk) => hashSplit(chunk, key, s.validation_fraction, s.test_fraction, s.seed);
  }
  const time = params.data.time_column;
  const c = src.columns.find((col) => col.name === time);
  if (!c || c.type === 'string') throw new Error(`time split needs the timestamp column "${time}"`);
  const cuts = new SortedTimeCuts(src.rows, s.validation_fraction, s.test_fraction);
  let sorted = true;
  for await (const chunk of readParquetRowGroups(src, { columns: [time] }))
    if (!(sorted = cuts.add((chunk.columns[time] as { values: Float64Array }).values))) break;
  if (sorted) {
    const at = cuts.cuts();
    return (chunk) => splitByCuts(chunk.rowStart, chunk.length, at);
  }
  log.info(`the validated rows are not in time order: the time split sorts the whole "${time}" column`);
  const whole = await readParquetTable(src, { columns: [time] });
  const assignment = timeSplit(
    (whole.columns[time] as { values: Float64Array }).values,
    s.validation_fraction,
    s.test_fraction,
  );
  return (chunk) => assignment.subarray(chunk.rowStart, chunk.rowStart + chunk.length);
}

/** A split's rows, time span and target summary for metrics/prepare.json, added a chunk at a time. */
class SplitSummary {
  private rows = 0;
  private first = Infinity;
  private last = -Infinity;
  private sum = 0;
  private low = Infinity;
  private high = -Infinity;
  private readonly classCounts: number[] | undefined;

  constructor(
    private readonly params: Params,
    private readonly target: TargetSpec,
  ) {
    if (target.classes) this.classCounts = new Array<number>(target.classes.length).fill(0);
  }

  add(t: Table): void {
    this.rows += t.length;
    const time = t.columns[this.params.data.time_column];
    if (time && time.type !== 'string')
      for (const v of time.values) {
        if (v < this.first) this.first = v;
        if (v > this.last) this.last = v;
      }
    const column = t.columns[this.params.task.target];
    const y = encodeTarget(this.target, column);
    if (this.classCounts) for (const k of y) this.classCounts[k]++;
    else for (const v of y) this.sum += v;
    if (column && column.type !== 'string')
      for (const v of column.values) {
        if (v < this.low) this.low = v;
        if (v > this.high) this.high = v;
      }
  }

  /**
   * A binary target with one label only in this split (every row 0, or every row 1), or undefined:
   * nothing can be learnt or ranked from it, and the train stage would only report a metric that is
   * not a number.
   */
  oneLabel(split: string): string | undefined {
    const task = this.params.task;
    if (task.type !== 'classification' || this.classCounts || this.rows === 0) return undefined;
    if (this.sum !== 0 && this.sum !== this.rows) return undefined;
    const label = this.sum === 0 ? 0 : 1;
    const range = this.low <= this.high ? ` (its values there: ${this.low} to ${this.high})` : '';
    const fix =
      task.positive_above !== undefined
        ? `set task.positive_above inside the target's range${range} so both labels occur`
        : `set task.positive_class to a label that occurs there but not in every row`;
    return `every one of the ${this.rows} ${split} rows has label ${label} (task.target "${task.target}"${task.positive_above !== undefined ? ` ${label ? 'above' : 'at or below'} positive_above ${task.positive_above}` : ` ${label ? 'equal to' : 'other than'} positive_class ${JSON.stringify(task.positive_class)}`}), and a binary classifier needs both labels to learn and be scored; ${fix}, or check the data`;
  }

  metrics(name: string): Record<string, unknown> {
    const n = this.rows;
    const share = (k: number) => (n ? Math.round((k / n) * 1e6) / 1e6 : null);
    const head = {
      [`${name}_rows`]: n,
      [`${name}_first_time`]: formatOrderValue(this.first, this.params.data.time_column === ROW_ORDER),
      [`${name}_last_time`]: formatOrderValue(this.last, this.params.data.time_column === ROW_ORDER),
    };
    // Multi-class: each class's share of the split, keyed by class name (DVC shows a flat map).
    if (this.classCounts)
      return {
        ...head,
        ...Object.fromEntries(
          this.target.classes!.map((c, i) => [`${name}_class_share_${c}`, share(this.classCounts![i])]),
        ),
      };
    const key = this.params.task.type === 'classification' ? `${name}_positive_rate` : `${name}_target_mean`;
    return { ...head, [key]: n ? Math.round((this.sum / n) * 1e6) / 1e6 : null };
  }
}

/**
 * Two passes over the validated rows, a row group at a time, so memory does not grow with rows:
 * pass 1 assigns splits and fits the spec's base features on the train rows; pass 2 writes each
 * split a row group at a time, fits the crosses and the reference profile on train and counts
 * unseen categories per split. The outputs are the bytes the whole-table version wrote.
 */
export async function prepare(options: {
  repoRoot: string;
  params: Params;
  log: Logger;
}): Promise<{ spec: FeatureSpec; metrics: Record<string, unknown> }> {
  const { repoRoot, log } = options;
  const params = prepareStage.params(options.params);
  const src = await openParquet(join(repoRoot, VALIDATED_DIR, VALIDATED_FILE));
  const rows = src.rows;
  if (rows < 10)
    throw new Error(
      `only ${rows} validated rows: too few to split into train/validation/test (at least 10); if the source has more records, ingest them (npm run ingest; params.yaml ingest.batches_per_run: 0 takes every batch), otherwise point data.source at a larger table — see metrics/validate.json for rows rejected`,
    );
  const present = new Set(src.columns.map((c) => c.name));
  const keep = [
    ...new Set([params.data.time_column, params.task.target, ...Object.keys(params.features), ROW_COLUMN]),
  ].filter((c) => present.has(c));
  const chunks = () => readParquetRowGroups(src, { columns: keep });

  log.info(`splitting ${rows} rows (${params.split.method})`);
  const assign = await splitAssigner(src, params, log);
  const fitter = new FeatureSpecFitter(params);
  const sizes = SPLIT_NAMES.map(() => 0);
  for await (const chunk of chunks()) {
    const a = assign(chunk);
    for (const k of a) sizes[k]++;
    fitter.addBase(takeRows(chunk, indicesOf(a, TRAIN)));
  }
  for (const [i, n] of sizes.entries())
    if (n === 0)
      throw new Error(
        `the ${SPLIT_NAMES[i]} split is empty; ingest more data or change split fractions in params.yaml`,
      );

  // A label missing from train under a time split is most often a source ordered by its target.
  const explained = (err: unknown): unknown => {
    const message = (err as Error).message;
    if (params.split.method !== 'time' || !/training split/.test(message)) return err;
    return new Error(
      `${message}. split.method: time holds out the latest ${Math.round((params.split.validation_fraction + params.split.test_fraction) * 100)}% of records (by data.time_column ${params.data.time_column}) for validation and test: when the source is ordered by "${params.task.target}" (or a label occurs only lately), whole labels land there only; use split.method: hash to mix them`,
      { cause: err },
    );
  };
  let base: FeatureSpec;
  try {
    base = fitter.baseSpec();
  } catch (err) {
    throw explained(err);
  }
  const summaries = SPLIT_NAMES.map(() => new SplitSummary(params, base.target));
  const oov = SPLIT_NAMES.map((): Record<string, number> => ({}));
  const profiler = new ProfileAccumulator(base, {
    bins: params.profile.bins,
    topCategories: params.profile.top_categories,
  });
  let spec = base;
  await replaceDirAtomic(join(repoRoot, PREPARED_DIR), async (dir) => {
    await writeSplits(dir).catch((err: unknown) => {
      throw explained(err);
    });
  });
  async function writeSplits(dir: string): Promise<void> {
    const writers = await Promise.all(SPLIT_NAMES.map((name) => openParquetTableWriter(join(dir, `${name}.parquet`))));
    try {
      for await (const chunk of chunks()) {
        const a = assign(chunk);
        for (const [i, writer] of writers.entries()) {
          const part = takeRows(chunk, indicesOf(a, i));
          if (part.length === 0) continue;
          writer.append(part);
          summaries[i].add(part);
          // Encoding every split proves the spec applies cleanly and measures unseen categories.
          const enc = encodeFeatures(base, part);
          for (const [name, n] of Object.entries(enc.oov)) oov[i][name] = (oov[i][name] ?? 0) + n;
          if (i === TRAIN) {
            fitter.addCrosses(part, enc);
            profiler.add(part);
          }
        }
      }
      for (const writer of writers) await writer.close();
    } catch (err) {
      for (const writer of writers) await writer.abort();
      throw err;
    }
    // Checked before the outputs replace the previous ones: a run that stops here leaves them as they were.
    for (const i of [TRAIN, SPLIT_NAMES.indexOf('validation')]) {
      const one = summaries[i].oneLabel(SPLIT_NAMES[i]);
      if (one) throw new Error(one);
    }
    spec = fitter.finish();
    await writeJsonAtomic(join(dir, FEATURE_SPEC_FILE), spec);
    await writeJsonAtomic(join(dir, PROFILE_FILE), profiler.finish());
  }
  for (const d of spec.dropped ?? []) log.info(`feature ${d.feature} left out: ${d.reason}`);
  const vocab = Object.fromEntries(
    spec.features
      .filter((f) => f.kind === 'categorical')
      .map((f): [string, number] => [
        `vocabulary_size_${f.name}`,
        (f as { vocabulary: string[] }).vocabulary.length - 1,
      ]),
  );
  const oovShare: Record<string, number> = {};
  for (const [i, counts] of oov.entries())
    for (const [name, n] of Object.entries(counts))
      oovShare[`${SPLIT_NAMES[i]}_oov_rate_${name}`] = Math.round((n / sizes[i]) * 1e6) / 1e6;
  const metrics = {
    split_method: params.split.method,
    rows,
    ...Object.fromEntries(summaries.flatMap((s, i) => Object.entries(s.metrics(SPLIT_NAMES[i])))),
    ...vocab,
    // Features of params.yaml the fitted spec leaves out (e.g. a day of week seen over one week), or null.
    features_left_out: spec.dropped?.map((d) => d.feature).join(', ') || null,
    ...oovShare,
  };
  await writeMetricsFile(repoRoot, 'prepare', metrics);
  log.info(`train ${sizes[0]}, validation ${sizes[1]}, test ${sizes[2]} rows`, vocab);
  return { spec, metrics };
}

if (isMain(import.meta.url)) {
  await runStage(prepareStage, prepare);
}
