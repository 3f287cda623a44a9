/**
 * `npm run bench:quality`: the project's candidates against scikit-learn references, on the same
 * rows and features, in one run. All of the source (3,000,000 flights by default); test = the rows
 * from `--test-from` (default 2001-05-01) on; the rows before it are train and validation (the
 * latest `split.validation_fraction` validate, as in the pipeline). The candidates go through the
 * real train and evaluate stages in a temporary directory (selection, calibration, golden
 * examples and all); the references (HistGradientBoosting with scikit-learn's defaults, the same
 * tuned on the hour with minutes, logistic / ridge regression on one-hot airports) are fitted on
 * train + validation by harness/bench/training/quality.py with Debian's python3-sklearn. Nothing
 * is installed here: without scikit-learn the benchmark says how to get it.
 *
 * Prints one JSON line per model, then one line of ratios (ours / reference). `--backtest` repeats
 * the measurement at each of `--cuts` (train before the cut, test up to the next) and prints one
 * line per cut, the mean, whether our test log loss is below the constant (prevalence) baseline's
 * at every cut (the cuts where not), and a Markdown table (harness/bench/training/quality-backtest.ts).
 *   --task classification|regression   (default: params.yaml)   --test-from YYYY-MM-DD
 *   --until YYYY-MM-DD (drop rows from this date on: a smaller run, e.g. --test-from 2001-01-09 --until 2001-01-11)
 *   --params <file>   --no-references   --keep <dir> (keep the temporary directory)
 *   --reference-parts all|spec (default all: the references get hour, day of week and month; spec:
 *   only the datetime parts the fitted spec kept, i.e. the time features our model actually uses)
 * `--dataset NAME` instead measures a small public table from its docs/examples params
 * (harness/bench/training/quality-dataset.ts).
 */
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { loadParams, type Params } from '../../../core/schemas/params.ts';
import { createLogger } from '../../../core/platform/log.ts';
import { readParquetTable, writeParquetTable } from '../../../core/data/parquet.ts';
import { type Table } from '../../../core/data/table.ts';
import { bundledDatasetPath, isBundledDataset } from '../../../core/data/datasets.ts';
import { encodeTarget, fitFeatureSpec, type DatetimePart, type FeatureSpec } from '../../../core/model/features.ts';
import { profileTable } from '../../../core/model/profile.ts';
import { writeJsonAtomic } from '../../../core/platform/atomic.ts';
import { PREPARED_DIR, FEATURE_SPEC_FILE, PROFILE_FILE, MODEL_DIR } from '../../../training/contracts/paths.ts';
import { selectBackend } from '../../../core/model/tfjs-backend.ts';
import { loadBundle } from '../../../core/model/bundle.ts';
import { calibrationFloor } from './calibration-floor.ts';
import { train, readExperiments } from '../../../training/stages/train.ts';
import { evaluate } from '../../../training/stages/evaluate.ts';
import { splitAtDate, subsets, referenceMatrix, writeReferenceData, runPythonLines } from './quality-data.ts';
import {
  backtestMean,
  backtestRow,
  backtestTable,
  cutsNotBelowConstant,
  isoDay,
  restrictRows,
  type BacktestRow,
} from './quality-backtest.ts';
import { DATASETS, datasetNames, runDatasets } from './quality-dataset.ts';
import { parityDataset, parityPrepared, parityTable } from './quality-parity.ts';
import { isMain } from '../../../core/platform/is-main.ts';
import { choiceOption, defineCli, UsageError, type CliValues } from '../../../core/platform/cli.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The first Python that imports scikit-learn, or why none does. */
export function findSklearn(
  candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p),
): { python: string; version: string } | { error: string } {
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import sklearn; print(sklearn.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return {
    error: `no Python with scikit-learn found (tried ${candidates.join(', ')}); install it with \`apt-get install python3-sklearn\` (Debian/Ubuntu) or set PYTHON=/path/to/python3`,
  };
}

/** `--parity`: the engines compared setting for setting (./quality-parity.ts). */
async function parity(flags: CliValues<typeof OPTIONS>): Promise<number> {
  if ((flags.dataset === undefined) === (flags.prepared === undefined))
    throw new UsageError('--parity needs --dataset NAME[,NAME...]|all or --prepared DIR (one of them)');
  const sk = findSklearn();
  if ('error' in sk) {
    process.stdout.write(JSON.stringify({ benchmark: 'quality', error: sk.error }) + '\n');
    return 3;
  }
  const lines: Record<string, unknown>[] = [];
  const emit = (ls: Record<string, unknown>[]) => {
    for (const l of ls) process.stdout.write(JSON.stringify(l) + '\n');
    lines.push(...ls);
  };
  if (flags.prepared !== undefined)
    emit(await parityPrepared(flags.prepared, flags.params, { python: sk.python, keep: flags.keep }));
  else {
    const log = createLogger({ component: 'bench:quality', level: (process.env.LOG_LEVEL as 'info') ?? 'warn' });
    const seeds = parseSeeds(flags.seeds) ?? [undefined];
    for (const name of datasetNames(flags.dataset!))
      for (const seed of seeds) {
        const keep = flags.keep && join(flags.keep, seed === undefined ? name : `${name}-${seed}`);
        emit(await parityDataset(name, { python: sk.python, log, seed, keep }));
      }
  }
  process.stdout.write(parityTable(lines));
  return 0;
}

function parseSeeds(value: string | undefined): number[] | undefined {
  const seeds = value?.split(',').map((v) => Number(v.trim()));
  if (seeds?.some((v) => !Number.isInteger(v)))
    throw new UsageError(`--seeds ${value} must be integers separated by commas, e.g. 42,1,2,3,4`);
  return seeds;
}

function runReferences(python: string, npy: string, json: string): Promise<Record<string, unknown>[]> {
  return runPythonLines(python, join(here, 'quality.py'), [npy, json]);
}

async function sourceTable(params: Params) {
  const src = params.data.source;
  const path = isBundledDataset(src) ? bundledDatasetPath(src) : src;
  if (!/\.parquet$/i.test(path)) throw new Error(`bench:quality reads a local Parquet source; data.source is ${src}`);
  return readParquetTable(path);
}

const DEFAULT_CUTS = '2001-02-01,2001-03-01,2001-04-01,2001-05-01,2001-06-01';

const USAGE = `usage: npm run bench:quality -- [--task classification|regression] [--test-from YYYY-MM-DD] [--until YYYY-MM-DD]
       [--params FILE] [--no-references] [--keep DIR] [--reference-parts all|spec]
       [--from YYYY-MM-DD] [--sample SHARE] [--backtest [--cuts DATE,DATE,...]]
       npm run bench:quality -- --dataset NAME[,NAME...]|all [--reference-fit train+validation|train]
                                [--seeds N,N,...] [--each-candidate] [--no-references] [--keep DIR]
       npm run bench:quality -- --parity (--dataset NAME[,NAME...]|all [--seeds N,N,...] | --prepared DIR [--params FILE])
  the project's candidates against scikit-learn references on the same rows and features; prints
  one JSON line per model, then one line of ratios (ours / reference)
  --task               classification or regression (default: params.yaml)
  --test-from DATE     test = the rows from this date on (default 2001-05-01)
  --until DATE         drop the rows from this date on (a smaller run)
  --params FILE        the parameters file (default: params.yaml)
  --no-references      skip scikit-learn
  --keep DIR           work in DIR and keep it
  --reference-parts    all (hour, day of week, month; default) or spec (the datetime parts the fitted spec kept)
  --from DATE          drop the rows before this date
  --sample SHARE       keep this share of the rows (a seeded hash of the row number; default 1)
  --backtest           one measurement per cut: train on the rows before it, test on those up to the
                       next cut (the last: up to --until or the end); one JSON line per cut, the mean,
                       the cuts where our test log loss is not below the constant baseline's, then a table
  --cuts DATES         the backtest's cuts, comma-separated (default ${DEFAULT_CUTS})
  --dataset NAMES      a small public table instead of flights: ${Object.keys(DATASETS).join(', ')} or all;
                       its docs/examples params through validate, prepare, train and evaluate, the
                       references on the same prepared rows; one JSON line per model, then a table
                       (macro-F1 multi-class, ROC-AUC binary, RMSE regression; within 2 % of the
                       better reference or ahead)
  --reference-fit      with --dataset: the rows the references fit, train+validation (default) or
                       train (the rows our candidates fit; validation picks their epochs)
  --seeds N,N,...      with --dataset: run each at these seeds (split.seed of a hash split, train.seed
                       of a time split), then a table of the mean and the seeds within 2 %
  --each-candidate     with --dataset: also each candidate trained alone, and equal-weight blends of
                       all of them and of the two best on validation, scored on test
  --parity             our gbdt engine and HistGradientBoosting given the same settings (HistGradientBoosting's
                       defaults below 10,000 rows: 100 iterations, 31 leaves, min_samples_leaf 20, no L2,
                       no early stopping) on the same rows and raw features; with --dataset, or with
                       --prepared DIR (a pipeline's prepared rows, DIR/artifacts/prepared, and --params)
example: npm run bench:quality -- --dataset penguins
exit: 0 done, 1 failed, 2 usage error, 3 scikit-learn missing (the JSON line says how to get it)`;

const OPTIONS = {
  task: { type: 'string' },
  'test-from': { type: 'string', default: '2001-05-01' },
  until: { type: 'string' },
  params: { type: 'string', default: 'params.yaml' },
  keep: { type: 'string' },
  'no-references': { type: 'boolean', default: false },
  'reference-parts': { type: 'string', default: 'all' },
  from: { type: 'string' },
  sample: { type: 'string', default: '1' },
  backtest: { type: 'boolean', default: false },
  cuts: { type: 'string', default: DEFAULT_CUTS },
  dataset: { type: 'string' },
  'reference-fit': { type: 'string', default: 'train+validation' },
  seeds: { type: 'string' },
  'each-candidate': { type: 'boolean', default: false },
  parity: { type: 'boolean', default: false },
  prepared: { type: 'string' },
} as const;

async function main(flags: CliValues<typeof OPTIONS>): Promise<number> {
  if (flags.parity) return parity(flags);
  if (flags.dataset !== undefined) {
    const names = datasetNames(flags.dataset);
    const sk = flags['no-references'] ? null : findSklearn();
    if (sk && 'error' in sk) {
      process.stdout.write(JSON.stringify({ benchmark: 'quality', error: sk.error }) + '\n');
      return 3;
    }
    const log = createLogger({ component: 'bench:quality', level: (process.env.LOG_LEVEL as 'info') ?? 'warn' });
    const referenceFit = choiceOption(flags['reference-fit'], 'reference-fit', ['train+validation', 'train']);
    const seeds = parseSeeds(flags.seeds);
    await runDatasets(names, {
      python: sk ? sk.python : null,
      log,
      keep: flags.keep,
      referenceFit,
      seeds,
      eachCandidate: flags['each-candidate'],
    });
    return 0;
  }
  const refParts = choiceOption(flags['reference-parts'], 'reference-parts', ['all', 'spec']);
  const testFrom = parseDate(flags['test-from'], '--test-from', '2001-05-01');
  const until = flags.until === undefined ? undefined : parseDate(flags.until, '--until', '2001-01-11');
  const from = flags.from === undefined ? undefined : parseDate(flags.from, '--from', '2001-01-01');
  const sample = Number(flags.sample);
  if (!(sample > 0 && sample <= 1)) throw new UsageError('--sample must be a share of the rows in (0, 1], e.g. 0.2');
  const cuts = flags.backtest ? parseCuts(flags.cuts) : [];
  const taskFlag =
    flags.task === undefined ? undefined : choiceOption(flags.task, 'task', ['classification', 'regression']);
  const params = await loadParams(flags.params);
  const task = taskFlag ?? params.task.type;
  if (task === 'regression') {
    params.task = { ...params.task, type: 'regression', positive_above: undefined };
    if (params.train)
      params.train = { ...params.train, primary_metric: params.train.primary_metric === 'mae' ? 'mae' : 'rmse' };
  }
  const withRefs = !flags['no-references'];
  const sk = withRefs ? findSklearn() : null;
  if (sk && 'error' in sk) {
    process.stdout.write(JSON.stringify({ benchmark: 'quality', error: sk.error }) + '\n');
    return 3;
  }
  const log = createLogger({ component: 'bench:quality', level: (process.env.LOG_LEVEL as 'info') ?? 'warn' });
  const source = restrictRows(await sourceTable(params), params.data.time_column, { from, until, sample });
  const python = sk && !('error' in sk) ? sk : null;
  const opts = { params, task, refParts, python, log, keep: flags.keep };
  if (!flags.backtest) {
    const run = await measure(source, testFrom, opts);
    for (const line of run.lines) process.stdout.write(JSON.stringify(line) + '\n');
    process.stdout.write(JSON.stringify({ ratios: run.ratios, note: ratioNote(task) }) + '\n');
    return 0;
  }
  const rows: BacktestRow[] = [];
  for (const [i, cut] of cuts.entries()) {
    const end = cuts[i + 1] ?? until;
    const period = end === undefined ? source : restrictRows(source, params.data.time_column, { until: end });
    const run = await measure(period, cut, { ...opts, keep: flags.keep && join(flags.keep, isoDay(cut)) });
    const row = backtestRow(run, task, isoDay(cut), end === undefined ? 'end' : isoDay(end));
    rows.push(row);
    process.stdout.write(JSON.stringify({ backtest_cut: row }) + '\n');
  }
  process.stdout.write(JSON.stringify({ backtest_mean: backtestMean(rows) }) + '\n');
  if (task === 'classification') {
    const notBelow = cutsNotBelowConstant(rows);
    process.stdout.write(
      JSON.stringify({ backtest_log_loss_below_constant: notBelow.length === 0, cuts_not_below: notBelow }) + '\n',
    );
  }
  process.stdout.write(backtestTable(rows, task));
  return 0;
}

interface MeasureOptions {
  params: Params;
  task: 'classification' | 'regression';
  refParts: 'all' | 'spec';
  python: { python: string; version: string } | null;
  log: ReturnType<typeof createLogger>;
  keep?: string;
}

/** One train/test measurement: our pipeline's train and evaluate stages and the references, on rows before / from `testFrom`. */
async function measure(table: Table, testFrom: number, o: MeasureOptions) {
  const { params, task } = o;
  const tmp = o.keep ?? (await mkdtemp(join(tmpdir(), 'bench-quality-')));
  try {
    const t0 = performance.now();
    const time = table.columns[params.data.time_column];
    if (time?.type !== 'timestamp')
      throw new Error(`${params.data.time_column} is not a timestamp column of the source`);
    const split = splitAtDate(time.values, testFrom, params.split.validation_fraction);
    if (split.counts.test === 0 || split.counts.train === 0)
      throw new Error(
        `no ${split.counts.test ? 'training' : 'test'} rows around ${isoDay(testFrom)}; choose another cut`,
      );
    const parts = subsets(table, split);
    const spec = fitFeatureSpec(parts.train, params);
    const dir = join(tmp, PREPARED_DIR);
    await mkdir(dir, { recursive: true });
    for (const [name, t] of Object.entries(parts)) await writeParquetTable(join(dir, `${name}.parquet`), t);
    await writeJsonAtomic(join(dir, FEATURE_SPEC_FILE), spec);
    await writeJsonAtomic(
      join(dir, PROFILE_FILE),
      profileTable(parts.train, spec, { bins: params.profile.bins, topCategories: params.profile.top_categories }),
    );
    const prepS = (performance.now() - t0) / 1000;

    // References run to the end before our training starts: fitted side by side, scikit-learn's
    // OpenMP threads and our training shared the cores and both fit times meant nothing (the
    // training-time comparison needs them apart).
    let refs: Record<string, unknown>[] = [];
    let airports: unknown = null;
    if (o.python) {
      const ref = referenceMatrix(table, split, {
        time: params.data.time_column,
        distance: 'distance',
        airports: ['origin', 'destination'],
        target: params.task.target,
        positiveAbove: task === 'classification' ? params.task.positive_above : undefined,
        parts: o.refParts === 'spec' ? specParts(spec) : undefined,
      });
      airports = ref.airportCodes;
      await writeReferenceData(join(tmp, 'reference.npy'), join(tmp, 'reference.json'), ref, task);
      refs = await runReferences(o.python.python, join(tmp, 'reference.npy'), join(tmp, 'reference.json'));
    }
    const rss0 = process.resourceUsage().maxRSS;
    const t1 = performance.now();
    const summary = await train({ repoRoot: tmp, params, log: o.log });
    const trainWallS = (performance.now() - t1) / 1000;
    const evaluation = await evaluate({ repoRoot: tmp, params, log: o.log });
    const runs = await readExperiments(tmp);
    const lines: Record<string, unknown>[] = [
      {
        benchmark: 'quality',
        task,
        rows: table.length,
        reference_parts: o.refParts === 'spec' ? specParts(spec) : ['hour', 'day_of_week', 'month'],
        reference_airports: airports,
        spec_left_out: spec.dropped?.map((d) => d.feature) ?? [],
        ...split.counts,
        test_from: isoDay(testFrom),
        prepare_s: +prepS.toFixed(1),
        train_wall_s: +trainWallS.toFixed(1),
        peak_rss_mb: Math.round(Math.max(rss0, process.resourceUsage().maxRSS) / 1024),
        backend: summary.backend,
        python: o.python ? `${o.python.python} (scikit-learn ${o.python.version})` : null,
      },
    ];
    // What was served, scored on test: the selected candidate's line, or for a blend (every member
    // selected) a line of its own, so no member shows the blend's test figures as if they were its.
    const served = () => ({
      test: {
        ...pick(evaluation.test, task),
        ...(evaluation.calibration ? { ece: evaluation.calibration.ece } : {}),
      },
      calibration: evaluation.calibration ?? null,
      ...(task === 'regression' ? { interval_90_test_coverage: evaluation.intervals?.test_coverage ?? null } : {}),
    });
    const members = runs.filter((r) => r.selected).map((r) => r.candidate);
    const blend = members.length > 1;
    for (const r of runs) {
      const line: Record<string, unknown> = {
        model: r.candidate,
        selected: r.selected,
        ...(blend && r.selected ? { blend_member: true } : {}),
        epochs: r.epochs,
        fit_s: r.duration_s,
        rows_per_s: r.rows_per_s,
        validation: pick(r.val, task),
      };
      if (r.selected && !blend) Object.assign(line, served());
      lines.push(line);
    }
    if (blend)
      lines.push({ model: summary.selected ?? `blend:${members.join('+')}`, selected: true, members, ...served() });
    if (task === 'classification') lines.push({ calibration_floor: await floorOf(tmp, parts) });
    const references = refs;
    lines.push(...references);
    const ours = evaluation.test as Record<string, number>;
    const ratios: Record<string, number> = {};
    for (const r of references) {
      const short = String(r.model).replace('sklearn ', '').replace(/ /g, '_');
      if (task === 'classification') ratios[`roc_auc_vs_${short}`] = +(ours.roc_auc / (r.roc_auc as number)).toFixed(4);
      else {
        ratios[`mae_vs_${short}`] = +(ours.mae / (r.mae as number)).toFixed(4);
        ratios[`rmse_vs_${short}`] = +(ours.rmse / (r.rmse as number)).toFixed(4);
      }
    }
    return {
      lines,
      ratios,
      ours,
      references,
      trainWallS,
      // A blend selects every member: the train summary names it (blend:a+b).
      selected: summary.selected ?? null,
      baseline: evaluation.baseline as Record<string, number>,
    };
  } finally {
    if (!o.keep) await rm(tmp, { recursive: true, force: true });
  }
}

function ratioNote(task: string) {
  return task === 'classification'
    ? 'ROC-AUC ours / reference (≥ 1: ours is at least as good)'
    : 'error ours / reference (≤ 1: ours is at least as good)';
}

function parseDate(value: string, flag: string, example: string): number {
  const t = Date.parse(`${value}T00:00:00Z`);
  if (!Number.isFinite(t)) throw new UsageError(`${flag} must be a date like ${example}`);
  return t;
}

function parseCuts(value: string): number[] {
  const cuts = value.split(',').map((v) => parseDate(v.trim(), '--cuts', '2001-03-01,2001-04-01'));
  if (cuts.some((c, i) => i > 0 && c <= cuts[i - 1])) throw new UsageError('--cuts must be dates in increasing order');
  return cuts;
}

/** The datetime parts the fitted spec kept (what our model sees of the time). */
function specParts(spec: FeatureSpec): DatetimePart[] {
  return spec.features.flatMap((f) => (f.kind === 'datetime' ? f.parts : []));
}

/** The selected bundle's calibration error beside what a calibration fitted before the test period could reach (see calibration-floor.ts). */
async function floorOf(dir: string, parts: { validation: Table; test: Table }) {
  const { tf } = await selectBackend({});
  const bundle = await loadBundle(tf, join(dir, MODEL_DIR));
  try {
    const scored = (t: Table) => ({
      raw: bundle.predictTable(t, { raw: true }),
      y: encodeTarget(bundle.spec.target, t.columns[bundle.spec.target.column]),
    });
    const f = calibrationFloor(scored(parts.validation), scored(parts.test), bundle.predictTable(parts.test));
    return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, +v.toFixed(4)]));
  } finally {
    bundle.dispose();
  }
}

function pick(m: Record<string, unknown>, task: string) {
  const keys = task === 'classification' ? ['roc_auc', 'log_loss', 'pr_auc', 'ece'] : ['mae', 'rmse', 'r2'];
  return Object.fromEntries(keys.filter((k) => k in m).map((k) => [k, m[k]]));
}

if (isMain(import.meta.url))
  await defineCli({ name: 'bench:quality', usage: USAGE, options: OPTIONS }, ({ values }) => main(values)).main();
