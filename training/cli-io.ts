/**
 * What a training CLI's `main` may be given instead of the process's globals, so tests run it
 * in-process. The command-line convention itself (--help, usage errors, exit codes) is
 * core/platform/cli.ts.
 */
import type { Cli, CliStreams } from '../core/platform/cli.ts';
import { createLogger, type Logger } from '../core/platform/log.ts';

export interface CliIo {
  log?: Logger;
  /** Repository root (default: the current directory). */
  cwd?: string;
  /** Where tables and JSON go (default: stdout). */
  write?: (text: string) => void;
  /** Where usage errors and failures go (default: stderr). */
  stderr?: (text: string) => void;
}

/** Run `cli` with `argv`, its output to `io.write` (default stdout): the exit code. */
export function runCliWith<X extends CliIo>(cli: Cli<X>, argv: readonly string[], io: X): Promise<number> {
  return cli.run(argv, { ...io, stdout: io.write });
}

/** The logger, repository root and output writer a CLI's work uses. */
export function resolveIo(
  io: CliIo & CliStreams,
  component: string,
): { log: Logger; cwd: string; write: (text: string) => void } {
  return {
    log: io.log ?? createLogger({ component }),
    cwd: io.cwd ?? process.cwd(),
    write: io.write ?? io.stdout,
  };
}
