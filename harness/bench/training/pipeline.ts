/**
 * `npm run bench:pipeline`: wall time and peak RSS of ingest, validate and prepare on the quick
 * default and on all 3,000,000 flights, each stage in a fresh process, beside a reference measured
 * in the same run (plain Parquet decode of the same rows) because this machine is shared and noisy.
 * Prints one JSON document on stdout; progress goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadParams } from '../../../core/schemas/params.ts';
import { defineCli, UsageError } from '../../../core/platform/cli.ts';

const TARGET_FULL_S = 300;
const TARGET_RSS_MB = 3072;

interface StageRun {
  stage: string;
  rows: number;
  wall_s: number;
  peak_rss_mb: number;
}

function runStage(stage: string, repo: string, maxBatches: number): StageRun {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'harness/bench/training/stage-runner.ts', stage, repo, String(maxBatches)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (r.status !== 0) throw new Error(`${stage} failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as StageRun;
}

async function scenario(name: string, maxBatches: number) {
  const repo = await mkdtemp(join(tmpdir(), `bench-${name}-`));
  try {
    process.stderr.write(`bench ${name}: reference decode…\n`);
    const reference = runStage('reference', repo, maxBatches);
    const stages: StageRun[] = [];
    for (const s of ['ingest', 'validate', 'prepare']) {
      process.stderr.write(`bench ${name}: ${s}…\n`);
      stages.push(runStage(s, repo, maxBatches));
    }
    const total = stages.reduce((a, s) => a + s.wall_s, 0);
    const peak = Math.max(...stages.map((s) => s.peak_rss_mb));
    return {
      scenario: name,
      rows: stages[0].rows,
      stages,
      total_wall_s: +total.toFixed(3),
      peak_rss_mb: peak,
      reference: { what: 'decode the same rows from the source Parquet only', ...reference },
      total_vs_reference: +(total / reference.wall_s).toFixed(2),
    };
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
}

const USAGE = `usage: npm run bench:pipeline -- [default|full]
  wall time and peak RSS of ingest, validate and prepare, each stage in a fresh process, beside a
  plain Parquet decode of the same rows; prints one JSON document (progress on stderr)
  default  the quick default data (params.yaml ingest.max_batches)
  full     all 3,000,000 flights
  (neither: both)`;

await defineCli({ name: 'bench:pipeline', usage: USAGE, positionals: true }, async ({ positionals }) => {
  if (positionals.length > 1 || (positionals[0] !== undefined && !['default', 'full'].includes(positionals[0])))
    throw new UsageError(`unknown scenario '${positionals.join(' ')}': default or full`);
  const params = await loadParams('params.yaml');
  const only = positionals[0];
  const results = [];
  if (!only || only === 'default') results.push(await scenario('default', params.ingest.max_batches));
  if (!only || only === 'full') results.push(await scenario('full', 0));
  const full = results.find((r) => r.scenario === 'full');
  const report = {
    benchmark: 'pipeline',
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    results,
    targets: { full_total_wall_s: TARGET_FULL_S, peak_rss_mb: TARGET_RSS_MB },
    ...(full ? { meets_targets: full.total_wall_s <= TARGET_FULL_S && full.peak_rss_mb <= TARGET_RSS_MB } : {}),
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}).main();
