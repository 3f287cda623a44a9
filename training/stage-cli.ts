/**
 * Shared entry for stage scripts: a stage runs as `node --import tsx training/stages/<name>.ts`
 * (that is the `cmd` dvc.yaml gives real DVC). Failures print what went wrong and what to do,
 * without a stack trace unless DEBUG is set, and exit non-zero so the runner keeps the old state.
 */
import { pathToFileURL } from 'node:url';
import { createLogger, type Logger } from '../core/log.ts';

export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}

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
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"; options are: ${known.map((k) => '--' + k).join(', ')}`);
    const [key, inline] = arg.slice(2).split('=', 2);
    if (!known.includes(key)) throw new Error(`unknown option --${key}; options are: ${known.map((k) => '--' + k).join(', ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`option --${key} needs a value`);
    out[key] = value;
  }
  return out;
}
