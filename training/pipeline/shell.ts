/**
 * Run a stage command through the shell, as DVC does, streaming its output through unchanged
 * (so progress bars and colors still work) and reporting how it ended.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CommandOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable;
}

export function runShell(cmd: string, opts: CommandOptions): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (opts.stdout ?? process.stdout).write(chunk));
    child.stderr.on('data', (chunk: Buffer) => (opts.stderr ?? process.stderr).write(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal }));
  });
}
