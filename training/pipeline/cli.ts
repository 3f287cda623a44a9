/**
 * `npm run pipeline [-- <stage>…] [--force] [--dry] [--no-cache]`: reproduce dvc.yaml like
 * `dvc repro`, printing a summary table; exits non-zero when a stage fails.
 */
import { isMain } from '../../core/platform/is-main.ts';
import { formatSummary, runPipeline } from './runner.ts';
import { parseCli, resolveIo, type CliIo } from '../cli-io.ts';

const USAGE = `usage: npm run pipeline -- [stage…] [--force] [--dry] [--no-cache] [--json]
  stage       run this stage and the stages it depends on (default: all stages)
  --force     run the selected stages even when they are up to date
  --dry       only list what would run, and why
  --no-cache  do not copy outputs into .dvc/cache after each stage
  --json      print the result as JSON instead of a table`;

export type { CliIo } from '../cli-io.ts';

export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const { log, cwd, write } = resolveIo(io, 'pipeline');
  const parsed = parseCli(
    argv,
    {
      force: { type: 'boolean', short: 'f', default: false },
      dry: { type: 'boolean', default: false },
      'no-cache': { type: 'boolean', default: false },
    },
    USAGE,
    { log, write },
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  try {
    const result = await runPipeline({
      repoRoot: cwd,
      target: positionals.length ? positionals : undefined,
      force: values.force,
      dry: values.dry,
      cacheOutputs: !values['no-cache'],
      log,
    });
    write((values.json ? JSON.stringify(result, null, 2) : formatSummary(result)) + '\n');
    return result.ok ? 0 : 1;
  } catch (err) {
    log.error((err as Error).message);
    return 1;
  }
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
