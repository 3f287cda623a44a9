/**
 * `npm run bench:train`: training throughput (rows/s per epoch) of every candidate in params.yaml
 * on the prepared default data, beside a reference measured in the same run — one epoch of a plain
 * dense layer on random data of the same row count — because this machine is shared and noisy.
 * Runs in a temporary copy so the repository's experiment log and model stay untouched.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadParams } from '../../../core/schemas/params.ts';
import { createLogger } from '../../../core/platform/log.ts';
import { defineCli } from '../../../core/platform/cli.ts';
import { selectBackend } from '../../../core/model/tfjs-backend.ts';
import { exists } from '../../../core/platform/atomic.ts';
import { train, readExperiments } from '../../../training/stages/train.ts';
import { PREPARED_DIR } from '../../../training/contracts/paths.ts';

const USAGE = `usage: npm run bench:train
  training throughput (rows/s per epoch) of every candidate in params.yaml on the prepared data,
  in a temporary copy, beside one epoch of a plain dense layer on random data of the same size;
  prints one JSON document`;

await defineCli({ name: 'bench:train', usage: USAGE }, async () => {
  const repoRoot = process.cwd();
  if (!(await exists(join(repoRoot, PREPARED_DIR, 'train.parquet'))))
    throw new Error('no prepared data: run `npm start` (or `npm run pipeline -- prepare`) first');
  const log = createLogger({ component: 'bench:train', level: 'warn' });
  const params = await loadParams('params.yaml');
  const { tf, backend } = await selectBackend({ log });
  const tmp = await mkdtemp(join(tmpdir(), 'bench-train-'));
  try {
    await cp(join(repoRoot, PREPARED_DIR), join(tmp, PREPARED_DIR), { recursive: true });
    await train({ repoRoot: tmp, params, log });
    const runs = await readExperiments(tmp);
    const rows = runs[0]?.rows_train ?? 0;

    // Reference: one epoch of Dense(1) over 32 random features, same rows and batch size.
    const x = tf.randomUniform([rows, 32], 0, 1, 'float32', 1);
    const y = tf.randomUniform([rows, 1], 0, 1, 'float32', 2).round();
    const ref = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [32], activation: 'sigmoid' })] });
    ref.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
    const t0 = performance.now();
    await ref.fit(x, y, { epochs: 1, batchSize: params.train?.batch_size ?? 1024, verbose: 0 });
    const refSeconds = (performance.now() - t0) / 1000;
    tf.dispose([x, y]);
    ref.dispose();
    const referenceRowsPerS = Math.round(rows / refSeconds);

    process.stdout.write(
      JSON.stringify(
        {
          benchmark: 'train',
          backend,
          rows_train: rows,
          reference: {
            what: 'one epoch, Dense(1) on 32 random features, same rows and batch size',
            rows_per_s: referenceRowsPerS,
          },
          candidates: runs.map((r) => ({
            candidate: r.candidate,
            rows_per_s: r.rows_per_s,
            vs_reference: r.rows_per_s == null ? null : +(r.rows_per_s / referenceRowsPerS).toFixed(3),
            epochs: r.epochs,
            duration_s: r.duration_s,
            selected: r.selected,
            val: r.val,
          })),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}).main();
