/**
 * Start a service early, serve late: a parent starts a child process (its module loading and
 * warm-up overlap the parent's own work) that waits for the word before it reads any state, so
 * it ends up exactly where a child started afterwards would (`npm start`: the API waits while the
 * pipeline trains, then serves the version it registered). The child side is `waitForParent`;
 * `startWaitingChild` is the parent side.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** Set in the child's environment by `startWaitingChild`. */
export const WAIT_ENV = 'WAIT_FOR_PARENT';

/**
 * In a child started by `startWaitingChild`: run `warm` (a failure is left for the real work to
 * meet again), then resolve true when the parent says go, false when it disconnects first (the
 * child then has nothing to do). Once going, the parent going away ends the child as SIGTERM does
 * (its own handler), so no orphan outlives `npm start`. Anywhere else: true at once.
 */
export async function waitForParent(warm?: () => Promise<unknown>): Promise<boolean> {
  if (process.env[WAIT_ENV] !== '1' || !process.send) return true;
  delete process.env[WAIT_ENV]; // the child's own children (cluster workers) wait for no one
  await warm?.().catch(() => undefined);
  const go = await new Promise<boolean>((resolve) => {
    process.once('message', (m) => resolve(m === 'go'));
    process.once('disconnect', () => resolve(false));
  });
  if (go) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  return go;
}

export interface WaitingChild {
  /** Say go; resolves with the child's exit code once it ends (`early`: it had ended before). */
  go(): Promise<{ code: number; early: boolean }>;
  /** The child's exit code, once it ends. */
  exited: Promise<number>;
  /** Never mind: the child ends without going (resolves once it has). */
  cancel(): Promise<void>;
}

export function startWaitingChild(
  argv: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; onError?: (err: Error) => void },
): WaitingChild {
  const child = spawn(process.execPath, argv, {
    cwd: options.cwd,
    env: { ...options.env, [WAIT_ENV]: '1' },
    // Output goes where the parent's goes; the IPC channel carries the word.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number>((resolve) => {
    child.once('error', (err) => {
      options.onError?.(err);
      resolve(1);
    });
    child.once('exit', (code, signal) =>
      resolve(code ?? 128 + (signal ? ((constants.signals[signal] as number | undefined) ?? 0) : 0)),
    );
  });
  return {
    exited,
    async go() {
      if (!child.connected) return { code: await exited, early: true };
      child.send('go');
      // Ctrl-C reaches the child itself (same process group) and it stops in its own way; a
      // SIGTERM for the parent is passed on. Either way the parent waits for the child.
      const ignore = () => {};
      const pass = () => child.kill('SIGTERM');
      process.on('SIGINT', ignore);
      process.on('SIGTERM', pass);
      try {
        return { code: await exited, early: false };
      } finally {
        process.off('SIGINT', ignore);
        process.off('SIGTERM', pass);
      }
    },
    async cancel() {
      if (child.connected) child.disconnect();
      else if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
