/**
 * Runs one data stage in its own process against a given repository directory and prints one JSON
 * line with its wall time and the process's peak RSS, so the benchmark measures stages separately.
 */
import { loadParams } from '../../../core/schemas/params.ts';
import { createLogger } from '../../../core/platform/log.ts';
import { ingest } from '../../../training/stages/ingest.ts';
import { validate } from '../../../training/stages/validate.ts';
import { prepare } from '../../../training/stages/prepare.ts';
import { readParquetTable } from '../../../core/data/parquet.ts';
import { bundledDatasetPath } from '../../../core/data/datasets.ts';

const [stage, repoRoot, maxBatchesArg] = process.argv.slice(2);
const log = createLogger({ component: `bench:${stage}`, level: 'warn' });
const params = await loadParams('params.yaml');
const started = performance.now();
let rows: number;
if (stage === 'ingest') {
  const n = Number(maxBatchesArg);
  rows = (await ingest({ repoRoot, params, log, maxBatches: n, batchesPerRun: n === 0 ? 0 : n, track: async () => {} }))
    .rows;
} else if (stage === 'validate') rows = (await validate({ repoRoot, params, log })).rows_in;
else if (stage === 'prepare') rows = (await prepare({ repoRoot, params, log })).metrics.rows as number;
else if (stage === 'reference') {
  // The floor for ingest: only decoding the source Parquet, no sorting, batching or writing.
  rows = (
    await readParquetTable(bundledDatasetPath(params.data.source), {
      rowEnd: Number(maxBatchesArg) === 0 ? undefined : Number(maxBatchesArg) * params.ingest.batch_size,
    })
  ).length;
} else throw new Error(`unknown stage ${stage}`);
const wallMs = performance.now() - started;
process.stdout.write(
  JSON.stringify({
    stage,
    rows,
    wall_s: +(wallMs / 1000).toFixed(3),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + '\n',
);
