/**
 * `npm run bench:scale`: how each pipeline stage's wall time and peak RSS grow with the number of
 * rows. For every size it tiles the bundled flights to that many records (dates moved by whole
 * multiples of the source's span), then runs ingest and every dvc.yaml stage in a scratch copy of
 * the repository, each stage as the pipeline runs it (`node --import tsx <entry>` in the repo
 * root) under /usr/bin/time, which reports the process's peak RSS. Prints one JSON document with a
 * straight-line fit per stage (MB and seconds per million rows, fixed part); progress on stderr.
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadParams } from '../../../core/schemas/params.ts';
import { bundledDatasetPath } from '../../../core/data/datasets.ts';
import { readParquetTable, writeParquetTable } from '../../../core/data/parquet.ts';
import { initDvcRepo } from '../../../core/dvc/index.ts';
import { defineCli, UsageError } from '../../../core/platform/cli.ts';
import { PIPELINE_STAGES } from '../../../training/contracts/index.ts';
import { linearFit, writeTiledTable } from './scale-data.ts';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SOURCE = 'vega-datasets:data/flights-3m.parquet';
const ALL_STAGES = ['ingest', ...PIPELINE_STAGES.map((s) => s.name)];
const ENTRY = new Map<string, string>([
  ['ingest', 'training/stages/ingest.ts'],
  ...PIPELINE_STAGES.map((s) => [s.name, s.entry] as [string, string]),
]);
/** The goal for a streaming stage: peak RSS at the largest size ≤ 1.5 GB and within 20 % of the 3M run. */
const TARGET_RSS_MB = 1536;
const TARGET_RSS_GROWTH = 0.2;
const REFERENCE_ROWS = 3_000_000;

interface StageRun {
  stage: string;
  rows: number;
  seconds: number;
  peak_rss_mb: number;
  load_before: number;
}

const USAGE = `usage: npm run bench:scale -- [--rows 3000000,6000000,15000000] [--stages ingest,validate,…] [--epochs 1] [--max-iter 40] [--train-rows N] [--stage-timeout 1800] [--keep]
  tiles the bundled flights to each size (dates shifted by whole weeks beyond the source's span),
  runs ingest and the dvc.yaml stages on it in a scratch repository, one process per stage, and
  prints per stage: rows, wall seconds and peak RSS (MB), then the slope of RSS and time in rows
  --rows N,N,…        table sizes (default 3000000,6000000,15000000; 300000,600000,1500000 is a quick run)
  --stages a,b,…      stages to run, in pipeline order (default: ${ALL_STAGES.join(',')});
                      a stage needs the ones before it
  --epochs N          train.max_epochs for the run (default 1: the curve, not the model, is measured)
  --max-iter N        max_iter of the gbdt candidates (default 40, for the same reason: memory is
                      the binned rows, not the trees; 1000 iterations on millions of rows take hours)
  --train-rows N      train on the first N rows of the train and validation splits only (the full
                      splits are put back for evaluate and register), to measure the stages after
                      train at sizes where training takes hours; train's own figures are then
                      reported as "train (first N rows)"
  register runs twice: "register" (first model: no production to compare with), then
  "register+production" (the steady state: drift of the train split against production's
  profile, production scored on test)
  --stage-timeout S   stop a size when one of its stages runs longer than S seconds (default 1800)
  --keep              keep the scratch directories (their paths go to stderr)
exit: 0 measured (whether or not the targets are met: see meets_targets), 1 a stage failed, 2 usage error`;

function parseList(value: string, flag: string): number[] {
  const out = value.split(',').map((v) => Number(v.trim()));
  if (!out.length || out.some((n) => !Number.isInteger(n) || n <= 0))
    throw new UsageError(`--${flag} takes positive whole numbers separated by commas, got "${value}"`);
  return out;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number, got "${value}"`);
  return n;
}

/** Run one stage like the pipeline does, under /usr/bin/time; its log goes to <root>/.bench/<stage>.log. */
async function runStage(root: string, stage: string, rows: number, timeoutS: number, label = stage): Promise<StageRun> {
  const timeFile = join(root, '.bench', `${label}.time`);
  const logFile = join(root, '.bench', `${label}.log`);
  const load = loadavg()[0];
  const log = await import('node:fs').then((fs) => fs.openSync(logFile, 'w'));
  const child = spawn(
    '/usr/bin/time',
    ['-f', '%e %M', '-o', timeFile, process.execPath, '--import', 'tsx', ENTRY.get(stage)!],
    {
      cwd: root,
      env: { ...process.env, REGISTER_PROMOTE: 'allow' },
      stdio: ['ignore', log, log],
      detached: true, // its own process group, so a timeout stops node and not only /usr/bin/time
    },
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, timeoutS * 1000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const tail = (await readFile(logFile, 'utf8')).trim().split('\n').slice(-15).join('\n');
  if (timedOut)
    throw new Error(`${stage} on ${rows} rows ran longer than --stage-timeout ${timeoutS} s; log: ${logFile}`);
  if (code !== 0) throw new Error(`${stage} on ${rows} rows failed (exit ${code}); last lines of ${logFile}:\n${tail}`);
  const [seconds, maxKb] = (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  return { stage: label, rows, seconds, peak_rss_mb: Math.round(maxKb / 1024), load_before: +load.toFixed(2) };
}

/**
 * Put the first `rows` rows of the train and validation splits in place of the splits (the full
 * files are moved aside) and return how to put them back.
 */
async function truncateSplits(root: string, rows: number): Promise<() => Promise<void>> {
  const moved: [string, string][] = [];
  for (const split of ['train', 'validation']) {
    const path = join(root, 'artifacts', 'prepared', `${split}.parquet`);
    const aside = join(root, '.bench', `${split}.full.parquet`);
    await rename(path, aside);
    moved.push([aside, path]);
    await writeParquetTable(path, await readParquetTable(aside, { rowEnd: rows }));
  }
  return async () => {
    for (const [aside, path] of moved) await rename(aside, path);
  };
}

async function measureSize(
  rows: number,
  stages: string[],
  epochs: number,
  timeoutS: number,
  keep: boolean,
  trainRows: number | undefined,
  maxIter: number,
) {
  const root = await mkdtemp(join(tmpdir(), `bench-scale-${rows}-`));
  try {
    // Copies, not links: a stage runs only when it is the process's main module, judged by its real path.
    for (const entry of ['core', 'training', 'package.json', 'tsconfig.json'])
      await cp(join(REPO, entry), join(root, entry), { recursive: true });
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'));
    await mkdir(join(root, '.bench'));
    const source = join(root, '.bench', 'flights.parquet');
    const params = await loadParams(join(REPO, 'params.yaml'));
    process.stderr.write(`bench:scale ${rows} rows: tiling the bundled flights…\n`);
    const tiled = await writeTiledTable({
      source: bundledDatasetPath(SOURCE),
      out: source,
      rows,
      timeColumn: params.data.time_column,
    });
    const run = {
      ...params,
      data: { ...params.data, source, format: 'parquet' as const },
      ingest: { ...params.ingest, max_batches: 0, batches_per_run: 0 },
      train: params.train && {
        ...params.train,
        max_epochs: epochs,
        candidates: params.train.candidates.map((c) => (c.model === 'gbdt' ? { ...c, max_iter: maxIter } : c)),
      },
    };
    await writeFile(join(root, 'params.yaml'), stringify(run));
    await initDvcRepo(root);
    const results: StageRun[] = [];
    const runs = stages.flatMap((stage) =>
      stage === 'register'
        ? [[stage, stage] as const, [stage, 'register+production'] as const]
        : [[stage, stage] as const],
    );
    for (const [stage, name] of runs) {
      const sample = stage === 'train' && trainRows !== undefined;
      const label = sample ? `train (first ${trainRows} rows)` : name;
      process.stderr.write(`bench:scale ${rows} rows: ${label}… (load ${loadavg()[0].toFixed(2)})\n`);
      const restore = sample ? await truncateSplits(root, trainRows) : undefined;
      try {
        const r = await runStage(root, stage, rows, timeoutS, label);
        process.stderr.write(`  ${r.seconds.toFixed(1)} s, ${r.peak_rss_mb} MB\n`);
        results.push(r);
      } finally {
        await restore?.();
      }
    }
    if (keep) process.stderr.write(`bench:scale kept ${root}\n`);
    // Disk is the other limit of a runner (a GitHub-hosted one has 14 GB of SSD).
    const outputs_mb = Math.round(
      (await sizeOf(join(root, 'data'))) / 2 ** 20 + (await sizeOf(join(root, 'artifacts'))) / 2 ** 20,
    );
    return {
      rows,
      copies: tiled.copies,
      source_mb: Math.round((await sizeOf(source)) / 2 ** 20),
      outputs_mb,
      stages: results,
    };
  } finally {
    if (!keep) await rm(root, { recursive: true, force: true });
  }
}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path).catch(() => null);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path)) total += await sizeOf(join(path, e));
  return total;
}

/** The size a stage's RSS is compared with: 3,000,000 rows (the bundled table) when measured, else the smallest. */
function referenceSize<T extends { rows: number }>(sizes: T[]): T {
  return sizes.find((s) => s.rows === REFERENCE_ROWS) ?? sizes[0];
}

/**
 * Per stage: MB and seconds per million rows and the fixed part, and whether RSS stayed flat
 * (at the largest size ≤ 1.5 GB and within 20 % of the reference size).
 */
export function summarize(sizes: { rows: number; stages: StageRun[] }[]) {
  const names = [...new Set(sizes.flatMap((s) => s.stages.map((r) => r.stage)))];
  const reference = referenceSize(sizes);
  const largest = sizes.at(-1)!;
  return Object.fromEntries(
    names.map((name) => {
      const runs = sizes.flatMap((s) => s.stages.filter((r) => r.stage === name));
      const rss = linearFit(runs.map((r) => ({ x: r.rows / 1e6, y: r.peak_rss_mb })));
      const time = linearFit(runs.map((r) => ({ x: r.rows / 1e6, y: r.seconds })));
      const first = reference.stages.find((r) => r.stage === name);
      const last = largest.stages.find((r) => r.stage === name);
      const growth = first && last ? last.peak_rss_mb / first.peak_rss_mb - 1 : null;
      return [
        name,
        {
          rss_mb_per_million_rows: +rss.slope.toFixed(1),
          rss_fixed_mb: Math.round(rss.intercept),
          seconds_per_million_rows: +time.slope.toFixed(2),
          seconds_fixed: +time.intercept.toFixed(1),
          rss_reference_rows: reference.rows,
          rss_growth_to_largest: growth === null ? null : +growth.toFixed(3),
          flat:
            growth !== null && last !== undefined && growth <= TARGET_RSS_GROWTH && last.peak_rss_mb <= TARGET_RSS_MB,
        },
      ];
    }),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  await defineCli(
    {
      name: 'bench:scale',
      usage: USAGE,
      options: {
        rows: { type: 'string', default: '3000000,6000000,15000000' },
        stages: { type: 'string', default: ALL_STAGES.join(',') },
        epochs: { type: 'string', default: '1' },
        'max-iter': { type: 'string', default: '40' },
        'stage-timeout': { type: 'string', default: '1800' },
        'train-rows': { type: 'string' },
        keep: { type: 'boolean', default: false },
      },
    },
    async ({ values }) => {
      const sizes = parseList(values.rows, 'rows').sort((a, b) => a - b);
      const stages = values.stages.split(',').map((s) => s.trim());
      for (const s of stages)
        if (!ENTRY.has(s)) throw new UsageError(`unknown stage "${s}"; stages are: ${ALL_STAGES.join(', ')}`);
      const ordered = ALL_STAGES.filter((s) => stages.includes(s));
      if (ordered[0] !== 'ingest' || ordered.some((s, i) => s !== ALL_STAGES[i]))
        throw new UsageError(
          `--stages must be a prefix of the pipeline (${ALL_STAGES.join(',')}): each stage reads what the one before wrote`,
        );
      const epochs = positive(values.epochs, 'epochs');
      const timeoutS = positive(values['stage-timeout'], 'stage-timeout');
      const measured = [];
      const trainRows = values['train-rows'] === undefined ? undefined : positive(values['train-rows'], 'train-rows');
      for (const rows of sizes)
        measured.push(
          await measureSize(
            rows,
            ordered,
            epochs,
            timeoutS,
            values.keep,
            trainRows,
            positive(values['max-iter'], 'max-iter'),
          ),
        );
      const fit = summarize(measured);
      const report = {
        benchmark: 'scale',
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        load_after: +loadavg()[0].toFixed(2),
        train_max_epochs: epochs,
        gbdt_max_iter: positive(values['max-iter'], 'max-iter'),
        ...(trainRows !== undefined ? { train_rows: trainRows } : {}),
        sizes: measured,
        fit,
        outputs_mb_per_million_rows: +linearFit(
          measured.map((m) => ({ x: m.rows / 1e6, y: m.outputs_mb })),
        ).slope.toFixed(1),
        targets: { peak_rss_mb: TARGET_RSS_MB, rss_growth: TARGET_RSS_GROWTH },
        meets_targets: Object.values(fit).every((f) => f.flat),
      };
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    },
  ).main();
