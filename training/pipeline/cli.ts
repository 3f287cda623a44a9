/**
 * `npm run pipeline [-- <stage>…] [--force] [--dry] [--no-cache]`: reproduce dvc.yaml like
 * `dvc repro`, printing a summary table; exits non-zero when a stage fails.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli, UsageError, type CliStreams } from '../../core/platform/cli.ts';
import { formatSummary, runPipeline } from './runner.ts';
import { readPipeline } from '../../core/dvc/index.ts';
import { productStageEntries } from './in-process.ts';
import { resolveIo, runCliWith, type CliIo } from '../cli-io.ts';
import { preflight } from '../preflight.ts';

const USAGE = `usage: npm run pipeline -- [stage…] [--force] [--dry] [--no-cache] [--json] [--spawn]
  stage       run this stage and the stages it depends on (default: all stages)
  --force     run the selected stages even when they are up to date
  --dry       only list what would run, and why
  --no-cache  do not copy outputs into .dvc/cache after each stage
  --json      print the result as JSON instead of a table
  --spawn     run every stage command as its own process, as \`dvc repro\` does (default: this
              product's stage scripts run inside this process; PIPELINE_IN_PROCESS=0 says --spawn)
exit: 0 every selected stage is up to date or ran, 1 a stage failed, 2 usage error`;

export type { CliIo } from '../cli-io.ts';

const cli = defineCli(
  {
    name: 'pipeline',
    usage: USAGE,
    options: {
      force: { type: 'boolean', short: 'f', default: false },
      dry: { type: 'boolean', default: false },
      'no-cache': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      spawn: { type: 'boolean', default: false },
    },
    positionals: true,
  },
  async ({ values, positionals }, io: CliIo & CliStreams) => {
    const { log, cwd, write } = resolveIo(io, 'pipeline');
    // params.yaml against itself and the raw store, before any stage runs (a dvc.yaml without a
    // params.yaml beside it is not this product's pipeline: nothing to check).
    // The production model is looked at only when register will run (it refuses another model's).
    // A stage name that dvc.yaml lacks is a usage error, before the params are checked.
    const def = positionals.length ? await readPipeline(cwd) : null;
    const unknown = positionals.find((s) => def && !def.stages.some((st) => st.name === s));
    if (unknown !== undefined)
      throw new UsageError(
        `unknown stage '${unknown}'; dvc.yaml defines: ${def!.stages.map((st) => st.name).join(', ')}`,
      );
    const registers = !positionals.length || positionals.some((s) => s === 'register' || s === 'report');
    if (existsSync(join(cwd, 'params.yaml')))
      await preflight({ repoRoot: cwd, against: 'raw-store', registry: registers, command: '`npm run pipeline`', log });
    const result = await runPipeline({
      repoRoot: cwd,
      target: positionals.length ? positionals : undefined,
      force: values.force,
      dry: values.dry,
      cacheOutputs: !values['no-cache'],
      log,
      inProcess: values.spawn ? [] : productStageEntries(),
    });
    write((values.json ? JSON.stringify(result, null, 2) : formatSummary(result)) + '\n');
    // The summary says which stage failed and why.
    return result.ok ? 0 : 1;
  },
);

export function main(argv: string[], io: CliIo = {}): Promise<number> {
  return runCliWith(cli, argv, io);
}

if (isMain(import.meta.url)) await cli.main();
