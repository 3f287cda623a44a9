/** `npm run drift -- --reference <bundle dir | data file> --current <data file> [--out drift-report]` */
import { loadParams } from '../core/schemas/params.ts';
import { createLogger } from '../core/platform/log.ts';
import { isMain } from '../core/platform/is-main.ts';
import { defineCli, UsageError, type CliStreams } from '../core/platform/cli.ts';
import { batchDrift, notJudged } from './drift.ts';
import { exists } from '../core/platform/atomic.ts';

const USAGE = `usage: npm run drift -- --reference <model bundle dir or CSV/JSON/Parquet> --current <CSV/JSON/Parquet> [--out drift-report]
  compare a batch of data with the model's reference profile (or a reference data file); writes
  the report to --out and prints {dataset_drift, drift_share, drifted_features, prediction_drift,
  drifted_predictions} as JSON. dataset_drift judges the input columns only; with a model bundle
  as reference the bundle also scores the batch, and prediction_drift compares its outputs with
  the training predictions (one track per class for multi-class), as the API's live monitor does
  (prediction_drift is absent, and the report says why, when the reference is a data file or the
  batch lacks a model input)
  --reference PATH  a model bundle directory (its training profile) or a CSV/JSON/Parquet file
  --current PATH    the CSV/JSON/Parquet batch to check: the model's input columns; the label column
                    (task.target in params.yaml) is optional, so unlabelled production data works
  --out DIR         where the report goes (default: drift-report)
  --params FILE     the parameters file (default: params.yaml)
exit: 0 compared (drift or not: see dataset_drift), 1 failed, 2 usage error, 3 not judged (the batch has
  fewer rows than drift.min_window: dataset_drift is null and not_judged says why)`;

const cli = defineCli(
  {
    name: 'drift',
    usage: USAGE,
    options: {
      reference: { type: 'string' },
      current: { type: 'string' },
      out: { type: 'string', default: 'drift-report' },
      params: { type: 'string', default: 'params.yaml' },
    },
  },
  async ({ values }, io) => {
    if (!values.reference || !values.current)
      throw new UsageError(`${values.reference ? '--current' : '--reference'} is required`);
    for (const flag of ['reference', 'current'] as const)
      if (!(await exists(values[flag]!)))
        throw new UsageError(
          `--${flag} ${values[flag]}: no such ${flag === 'reference' ? 'model bundle directory or ' : ''}file; pass ${flag === 'reference' ? 'a model bundle directory (artifacts/model after a pipeline run) or ' : ''}a CSV/JSON/Parquet file`,
        );
    const log = createLogger({ component: 'drift' });
    const started = Date.now();
    const result = await batchDrift({
      reference: values.reference,
      current: values.current,
      out: values.out,
      params: await loadParams(values.params),
      log,
    });
    const p = result.predictions;
    const unjudged = notJudged(result);
    if (unjudged !== null) {
      io.stdout(
        JSON.stringify({ dataset_drift: null, not_judged: unjudged, drift_share: null, drifted_features: [] }) + '\n',
      );
      return 3;
    }
    io.stdout(
      JSON.stringify({
        dataset_drift: result.dataset_drift,
        drift_share: result.drift_share,
        drifted_features: result.drifted_features,
        ...(p.skipped === undefined ? { prediction_drift: p.drifted, drifted_predictions: p.drifted_tracks } : {}),
        ...(result.left_out ? { left_out: result.left_out.map((d) => d.feature) } : {}),
      }) + '\n',
    );
    log.info(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
);

/** Run the CLI in-process (tests): the exit code. */
export function main(argv: string[], io: Partial<CliStreams> = {}): Promise<number> {
  return cli.run(argv, io);
}

if (isMain(import.meta.url)) await cli.main();
