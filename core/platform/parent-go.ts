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

/** What the parent has said to a child that waits for it. */
export interface ParentWord {
  /** Resolves once the parent says go (at once when it already has, or when no parent waits). */
  go(): Promise<void>;
}

/**
 * In a child started by `startWaitingChild`: run `warm` (a failure is left for the real work to
 * meet again), then wait. The parent says `load` (read state and get ready, e.g. once the model is
 * registered) and then `go` (e.g. listen), or `go` alone. Null: the parent went away before either
 * (nothing to do). A parent that goes away after `load` but before `go` ends the child quietly;
 * after `go`, as SIGTERM does (its own handler), so no orphan outlives `npm start`. Without a
 * waiting parent: go at once.
 */
export async function waitForParent(warm?: () => Promise<unknown>): Promise<ParentWord | null> {
  const now: ParentWord = { go: () => Promise.resolve() };
  if (process.env[WAIT_ENV] !== '1' || !process.send) return now;
  delete process.env[WAIT_ENV]; // the child's own children (cluster workers) wait for no one
  await warm?.().catch(() => undefined);
  let phase: 'waiting' | 'loading' | 'going' = 'waiting';
  let wentOn = (): void => {};
  const went = new Promise<void>((resolve) => (wentOn = resolve));
  return new Promise<ParentWord | null>((resolve) => {
    process.on('message', (m) => {
      if (m !== 'load' && m !== 'go') return;
      if (phase === 'waiting') resolve({ go: () => went });
      if (m === 'go') wentOn();
      phase = m === 'go' ? 'going' : phase === 'going' ? 'going' : 'loading';
    });
    process.once('disconnect', () => {
      if (phase === 'going') process.kill(process.pid, 'SIGTERM');
      else if (phase === 'loading') process.exit(0);
      else resolve(null);
    });
  });
}

export interface WaitingChild {
  /** Say load (the state the child reads is final): it gets ready but does not go yet. */
  load(): void;
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
    load() {
      if (child.connected) child.send('load');
    },
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
