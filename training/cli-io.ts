/** What a CLI's `main` may be given instead of the process's globals (so tests can run it in-process). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createLogger, type Logger } from '../core/platform/log.ts';

export interface CliIo {
  log?: Logger;
  /** Repository root (default: the current directory). */
  cwd?: string;
  /** Where tables and JSON go (default: stdout). */
  write?: (text: string) => void;
}

export function resolveIo(io: CliIo, component: string): { log: Logger; cwd: string; write: (text: string) => void } {
  return {
    log: io.log ?? createLogger({ component }),
    cwd: io.cwd ?? process.cwd(),
    write: io.write ?? ((text: string) => process.stdout.write(text)),
  };
}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
const COMMON_OPTIONS = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Parse a CLI's flags (plus the shared --json and --help). Returns the exit code instead when the
 * CLI should stop: 2 with the usage for a bad flag, 0 after printing the usage for --help.
 */
export function parseCli<const O extends OptionSpecs>(
  argv: string[],
  options: O,
  usage: string,
  io: { log: Logger; write: (text: string) => void },
) {
  const config = { args: argv, allowPositionals: true, options: { ...options, ...COMMON_OPTIONS } } as const;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    io.log.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.write(usage + '\n');
    return 0;
  }
  return parsed;
}
