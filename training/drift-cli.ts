/** `npm run drift -- --reference <bundle dir | data file> --current <data file> [--out drift-report]` */
import { loadParams } from '../core/schemas/params.ts';
import { batchDrift } from './drift.ts';
import { isMain, parseFlags, runStageCli } from './stage-cli.ts';

if (isMain(import.meta.url)) {
  await runStageCli('drift', async (log, argv) => {
    const flags = parseFlags(argv, ['reference', 'current', 'out', 'params']);
    if (!flags.reference || !flags.current)
      throw new Error(
        'usage: npm run drift -- --reference <model bundle dir or CSV/Parquet> --current <CSV/Parquet> [--out drift-report]',
      );
    const result = await batchDrift({
      reference: flags.reference,
      current: flags.current,
      out: flags.out ?? 'drift-report',
      params: await loadParams(flags.params ?? 'params.yaml'),
      log,
    });
    process.stdout.write(
      JSON.stringify({
        dataset_drift: result.dataset_drift,
        drift_share: result.drift_share,
        drifted_features: result.drifted_features,
      }) + '\n',
    );
  });
}
