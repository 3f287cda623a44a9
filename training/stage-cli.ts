/**
 * Shared entry for stage scripts: a stage runs as `node --import tsx training/stages/<name>.ts`
 * (that is the `cmd` dvc.yaml gives real DVC). Failures print what went wrong and what to do,
 * without a stack trace unless DEBUG is set, and exit non-zero so the runner keeps the old state.
 */
import { createLogger, type Logger } from '../core/platform/log.ts';
import { loadParams } from '../core/schemas/params.ts';
import type { ParamKey, ParamsView, StageContract } from './contracts/contract.ts';

export { isMain } from '../core/platform/is-main.ts';

export async function runStageCli(name: string, main: (log: Logger, argv: string[]) => Promise<void>): Promise<void> {
  const log = createLogger({ component: name });
  const started = Date.now();
  try {
    await main(log, process.argv.slice(2));
    log.info(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    const e = err as Error;
    log.error(`${name} failed: ${e.message}`);
    if (process.env.DEBUG && e.stack) process.stderr.write(e.stack + '\n');
    process.exitCode = 1;
  }
}

/** Minimal `--flag value` / `--flag=value` parser for stage options. */
export function parseFlags(argv: string[], known: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--'))
      throw new Error(`unexpected argument "${arg}"; options are: ${known.map((k) => '--' + k).join(', ')}`);
    const [key, inline] = arg.slice(2).split('=', 2);
    if (!known.includes(key))
      throw new Error(`unknown option --${key}; options are: ${known.map((k) => '--' + k).join(', ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`option --${key} needs a value`);
    out[key] = value;
  }
  return out;
}

export interface StageContext<K extends ParamKey, E extends string> {
  repoRoot: string;
  /** Only the params the contract declares (reading any other key throws). */
  params: ParamsView<K>;
  /** Only the environment variables the contract declares. */
  env: { [V in E]: string | undefined };
  /** Values of `extraFlags`. */
  flags: Record<string, string>;
  log: Logger;
}

/**
 * Run a stage from its contract: `--params <file>` (default params.yaml) is loaded, validated and
 * narrowed to the declared keys; the environment to the declared variables.
 */
export async function runStage<K extends ParamKey, E extends string>(
  contract: StageContract<K, E>,
  main: (ctx: StageContext<K, E>) => Promise<unknown>,
  extraFlags: string[] = [],
): Promise<void> {
  await runStageCli(contract.name, async (log, argv) => {
    const flags = parseFlags(argv, ['params', ...extraFlags]);
    const all = contract.paramKeys.length ? await loadParams(flags.params ?? 'params.yaml') : {};
    await main({
      repoRoot: process.cwd(),
      params: contract.params(all as ParamsView<K>),
      env: contract.readEnv(process.env),
      flags,
      log,
    });
  });
}
