/**
 * `npm run bench:train`: how fast every candidate of params.yaml trains on the prepared data, and
 * how close that is to the machine: the training loop's achieved FLOP/s beside the same backend's
 * matrix-multiply FLOP/s measured in the same run (this machine is shared and noisy, so only
 * figures from one run compare). Fits in memory only: the repository's experiment log and model
 * stay untouched. Tree candidates (`model: gbdt`) print rows/s (rows × iterations per second),
 * time per iteration and threads. docs/training-speed.md explains the figures.
 */
import { join } from 'node:path';
import { loadavg } from 'node:os';
import type { Table } from '../../../core/data/table.ts';
import type * as tfjs from '@tensorflow/tfjs';
import { loadParams } from '../../../core/schemas/params.ts';
import { createLogger } from '../../../core/platform/log.ts';
import { defineCli, UsageError } from '../../../core/platform/cli.ts';
import { selectBackend } from '../../../core/model/tfjs-backend.ts';
import { exists } from '../../../core/platform/atomic.ts';
import { readParquetTable } from '../../../core/data/parquet.ts';
import { encodeFeatures, encodeTarget, type FeatureSpec } from '../../../core/model/features.ts';
import { readArtifactFileAt } from '../../../core/model/artifact-files.ts';
import { expandCandidates, fitCandidate, type FitData, type FitOptions } from '../../../training/fit.ts';
import { fitGbdt, type GbdtConfig } from '../../../training/gbdt/fit-gbdt.ts';
import { sklearnSpeed } from './train-sklearn.ts';
import type { CandidateConfig } from '../../../core/model/network.ts';
import { FEATURE_SPEC_FILE, PREPARED_DIR } from '../../../training/contracts/paths.ts';

const USAGE = `usage: npm run bench:train [-- --epochs N] [--compare-layers] [--only NAMES] [--iterations N]
                       [--sklearn] [--prepared DIR] [--params FILE]
  fits every candidate of params.yaml on the prepared data (artifacts/prepared: run \`npm start\`
  or \`npm run pipeline -- prepare\` first) for N epochs (default 2) and prints one JSON document:
  rows/s per candidate; the training loop's achieved FLOP/s, counting the dense layers'
  multiply-adds of forward and backward (3 × 2 × Σ inputs × units per row); its time per step by
  part; and the same backend's matMul FLOP/s (1024 × 1024 float32, after warm-up), with the ratio.
  Tree candidates (model: gbdt): rows/s (training rows × iterations per second, whole fit and
  boosting alone), ms per iteration, threads (GBDT_THREADS) and how many passes they shared.
  --compare-layers   also time one epoch of tfjs's layers fit per candidate (the loop before
                     training/embedding-trainer.ts)
  --only NAMES       only these candidates (comma-separated names)
  --iterations N     tree candidates: exactly N iterations (no early stopping; default: as params say)
  --sklearn          tree candidates: also time scikit-learn's HistGradientBoosting on the same rows
                     (their bin codes), same settings and iteration count (python3 with scikit-learn;
                     PYTHON=/path/to/python3 to choose)
  --sklearn-threads N  its OpenMP threads (default: as many as the trees had; on a machine busier
                     than its cores OpenMP's waiting threads slow it by an order of magnitude)
  --prepared DIR     the prepared data (default artifacts/prepared; e.g. bench:quality --keep DIR's)
  --params FILE      the parameters file (default params.yaml)`;

const OPTIONS = {
  epochs: { type: 'string', default: '2' },
  'compare-layers': { type: 'boolean', default: false },
  only: { type: 'string' },
  iterations: { type: 'string' },
  sklearn: { type: 'boolean', default: false },
  'sklearn-threads': { type: 'string' },
  prepared: { type: 'string' },
  params: { type: 'string', default: 'params.yaml' },
} as const;

/** FLOP/s of tf.matMul on [n × n] float32 operands, the median of `reps` runs after warm-up. */
function matMulFlops(tf: typeof tfjs, n = 1024, reps = 5): { flop_per_s: number; ms: number } {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  const once = () => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    return performance.now() - t0;
  };
  once();
  once();
  const ms = Array.from({ length: reps }, once).sort((x, y) => x - y)[reps >> 1];
  tf.dispose([a, b]);
  return { flop_per_s: (2 * n ** 3) / (ms / 1000), ms: +ms.toFixed(2) };
}

/** Multiply-adds per row of the dense layers (hidden_i and output), from the fitted model's kernels. */
function denseMultiplyAdds(model: tfjs.LayersModel): { layers: Record<string, string>; per_row: number } {
  const layers: Record<string, string> = {};
  let perRow = 0;
  for (const layer of model.layers) {
    if (!/^hidden_\d+$/.test(layer.name) && layer.name !== 'output') continue;
    const [inputs, units] = layer.getWeights()[0].shape as [number, number];
    layers[layer.name] = `${inputs}×${units}`;
    perRow += inputs * units;
  }
  return { layers, per_row: perRow };
}

/** Values per row the embedding and wide lookups read forward and write back as gradients. */
function lookupValues(model: tfjs.LayersModel): number {
  return model.layers
    .filter((l) => /^(emb|wide)_cat_/.test(l.name))
    .reduce((s, l) => s + (l.getWeights()[0].shape[1] ?? 1), 0);
}

await defineCli({ name: 'bench:train', usage: USAGE, options: OPTIONS }, async ({ values }) => {
  const epochs = Number(values.epochs);
  if (!Number.isInteger(epochs) || epochs < 1) throw new UsageError(`--epochs must be a whole number ≥ 1`);
  const iterations = values.iterations === undefined ? undefined : Number(values.iterations);
  if (iterations !== undefined && !(Number.isInteger(iterations) && iterations >= 1))
    throw new UsageError(`--iterations must be a whole number ≥ 1`);
  const sklearn = values.sklearn || values['sklearn-threads'] !== undefined;
  const sklearnThreads = values['sklearn-threads'] === undefined ? undefined : Number(values['sklearn-threads']);
  if (sklearnThreads !== undefined && !(Number.isInteger(sklearnThreads) && sklearnThreads >= 1))
    throw new UsageError(`--sklearn-threads must be a whole number ≥ 1`);
  const dir = values.prepared ?? join(process.cwd(), PREPARED_DIR);
  if (!(await exists(join(dir, 'train.parquet'))))
    throw new Error(
      `no prepared data in ${dir}: run \`npm start\` (or \`npm run pipeline -- prepare\`) first, or pass --prepared DIR`,
    );
  const log = createLogger({ component: 'bench:train', level: 'warn' });
  const params = await loadParams(values.params);
  const tp = params.train;
  if (!tp) throw new Error('params.yaml has no `train` section; nothing to benchmark');
  const { tf, backend } = await selectBackend({ log });
  const spec: FeatureSpec = await readArtifactFileAt(join(dir, FEATURE_SPEC_FILE), 'featureSpec', 'prepare');
  const [trainT, valT] = await Promise.all(
    ['train', 'validation'].map((s) => readParquetTable(join(dir, `${s}.parquet`))),
  );
  const target = (t: typeof trainT) => encodeTarget(spec.target, t.columns[spec.target.column]);
  const data: FitData = {
    train: { enc: encodeFeatures(spec, trainT), y: target(trainT) },
    validation: { enc: encodeFeatures(spec, valT), y: target(valT) },
  };
  const task = params.task.type;
  const y = data.train.y;
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  const std = Math.sqrt(y.reduce((s, v) => s + (v - mean) ** 2, 0) / y.length) || 1;
  const options: FitOptions = {
    task,
    primary: tp.primary_metric,
    seed: tp.seed,
    maxEpochs: epochs,
    patience: epochs,
    batchSize: tp.batch_size,
    classes: spec.target.classes?.length,
    ...(task === 'regression' ? { targetScaler: { mean, std } } : {}),
    log,
  };

  const only = values.only?.split(',').map((n) => n.trim());
  const all = expandCandidates(tp.candidates);
  const chosen = only ? all.filter((c) => only.includes(c.name)) : all;
  if (only && chosen.length !== only.length)
    throw new UsageError(
      `--only: no candidate named ${only.filter((n) => !all.some((c) => c.name === n)).join(', ')}; params have ${all.map((c) => c.name).join(', ')}`,
    );
  const machine = chosen.some((c) => c.model !== 'gbdt') ? matMulFlops(tf) : null;
  const candidates: Record<string, unknown>[] = [];
  for (const cfg of chosen) {
    if (cfg.model === 'gbdt') {
      candidates.push(
        benchTrees(cfg, spec, { trainT, valT, data }, { task, options, iterations, sklearn, sklearnThreads }),
      );
      continue;
    }
    const fit = await fitCandidate(tf, cfg, data, options);
    const macs = denseMultiplyAdds(fit.model);
    const t = fit.stepTiming;
    const stepMs = t ? t.batch + t.forward + t.output + t.backward + t.scatter + t.optimizer : undefined;
    const stepRowsPerS = stepMs ? (y.length * fit.epochs) / (stepMs / 1000) : fit.rowsPerS;
    const flops = 6 * macs.per_row * stepRowsPerS;
    const matmul = machine?.flop_per_s ?? NaN;
    let layers: { rows_per_s: number } | undefined;
    if (values['compare-layers']) {
      const before = await fitCandidate(tf, cfg, data, { ...options, maxEpochs: 1, loop: 'layers' });
      layers = { rows_per_s: Math.round(before.rowsPerS) };
      before.model.dispose();
    }
    candidates.push({
      candidate: cfg.name,
      loop: t ? 'embedding-trainer' : 'tfjs layers fit',
      epochs: fit.epochs,
      validation: { [tp.primary_metric]: +fit.bestValue.toFixed(4) },
      rows_per_s: Math.round(fit.rowsPerS),
      step_rows_per_s: Math.round(stepRowsPerS),
      dense_layers: macs.layers,
      dense_flop_per_row: 6 * macs.per_row,
      achieved_gflop_per_s: +(flops / 1e9).toFixed(3),
      vs_matmul: +(flops / matmul).toFixed(3),
      lookup_values_per_row: lookupValues(fit.model),
      ...(t
        ? {
            ms_per_step: Object.fromEntries(
              (['batch', 'forward', 'output', 'backward', 'scatter', 'optimizer'] as const).map((k) => [
                k,
                +(t[k] / t.steps).toFixed(2),
              ]),
            ),
            steps: t.steps,
          }
        : {}),
      ...(layers
        ? { layers_fit: { ...layers, speedup: +(fit.rowsPerS / Math.max(1, layers.rows_per_s)).toFixed(2) } }
        : {}),
    });
    fit.model.dispose();
  }
  process.stdout.write(
    JSON.stringify(
      {
        benchmark: 'train',
        backend,
        rows_train: y.length,
        batch_size: tp.batch_size,
        matmul: machine && {
          what: 'tf.matMul of two 1024×1024 float32 matrices, median of 5 after warm-up, same backend and run',
          gflop_per_s: +(machine.flop_per_s / 1e9).toFixed(3),
          ms: machine.ms,
        },
        load_average: +loadavg()[0].toFixed(2),
        candidates,
      },
      null,
      2,
    ) + '\n',
  );
}).main();

/** One tree candidate's fit: rows/s, ms per iteration, threads (training/gbdt/fit-gbdt.ts). */
function benchTrees(
  cfg: CandidateConfig,
  spec: FeatureSpec,
  d: { trainT: Table; valT: Table; data: FitData },
  o: {
    task: 'classification' | 'regression';
    options: FitOptions;
    iterations?: number;
    sklearn?: boolean;
    sklearnThreads?: number;
  },
): Record<string, unknown> {
  const gcfg = { ...(cfg as unknown as GbdtConfig) };
  if (o.iterations !== undefined) Object.assign(gcfg, { max_iter: o.iterations, patience: o.iterations });
  const cpu0 = process.cpuUsage();
  const main0 = process.threadCpuUsage();
  const fit = fitGbdt(
    gcfg,
    spec,
    {
      train: { ...d.data.train, table: d.trainT },
      validation: { ...d.data.validation, table: d.valT },
    },
    { ...o.options, task: o.task },
  );
  const cpu = process.cpuUsage(cpu0);
  const main = process.threadCpuUsage(main0);
  const rows = d.data.train.y.length;
  const msPerIteration = (fit.boostS * 1000) / fit.epochs;
  const reference = o.sklearn ? sklearnSpeed(gcfg, spec, d, o, fit.epochs, o.sklearnThreads ?? fit.threads) : undefined;
  return {
    candidate: cfg.name,
    model: 'gbdt',
    iterations: fit.epochs,
    kept: fit.bestEpoch,
    validation: { [o.options.primary]: +fit.bestValue.toFixed(4) },
    fit_s: +fit.durationS.toFixed(2),
    boost_s: +fit.boostS.toFixed(2),
    cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    // This thread's CPU time: near the wall time on a machine with a free core per thread.
    main_thread_cpu_s: +((main.user + main.system) / 1e6).toFixed(2),
    rows_per_s: Math.round(fit.rowsPerS),
    boost_rows_per_s: Math.round((rows * fit.epochs) / fit.boostS),
    ms_per_iteration: +msPerIteration.toFixed(1),
    threads: fit.threads,
    shared_passes: fit.parallel.parallel,
    single_thread_passes: fit.parallel.backedOff,
    workers_started_ms: fit.parallel.startupMs,
    ...(reference && {
      sklearn: reference,
      ms_per_iteration_vs_sklearn:
        typeof reference.ms_per_iteration === 'number'
          ? +(msPerIteration / reference.ms_per_iteration).toFixed(2)
          : null,
    }),
  };
}
