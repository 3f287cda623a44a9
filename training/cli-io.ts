/** What a CLI's `main` may be given instead of the process's globals (so tests can run it in-process). */
import { createLogger, type Logger } from '../core/log.ts';

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
