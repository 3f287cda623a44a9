/**
 * `npm start` serves once the pipeline has finished, but it starts the API process at once: the
 * API loads its modules (Koa, TensorFlow.js and its WebAssembly backend, zod: 2–5 s here) while
 * the pipeline runs, then waits for the word before it reads params.yaml and the registry (its
 * WAIT_FOR_PARENT mode, api/server.ts). So it serves the version the pipeline just registered,
 * exactly as `npm run serve` started afterwards would, only sooner. Started as a process, not
 * imported: the API never shares a process (or a heap) with training.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Logger } from '../core/platform/log.ts';

export const API_ENTRY = 'api/server.ts';

export interface EarlyApi {
  /** Let the API read the registry and serve; resolves with its exit code when it stops. */
  serve(): Promise<number>;
  /** The pipeline failed or was interrupted: the waiting API ends without serving. */
  cancel(): Promise<void>;
}

export function startApiEarly(options: {
  repoRoot: string;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** The API's command line (default: `node --import tsx api/server.ts`). */
  argv?: string[];
}): EarlyApi {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), WAIT_FOR_PARENT: '1' };
  // npm start gives this one to the pipeline only (`REGISTER_PROMOTE=… cli.ts start`).
  delete env.REGISTER_PROMOTE;
  const child = spawn(process.execPath, options.argv ?? ['--import', 'tsx', API_ENTRY], {
    cwd: options.repoRoot,
    env,
    // Its log lines go where `npm run serve`'s would; the IPC channel carries the word.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number>((resolve) => {
    child.once('error', (err) => {
      options.log.error(`the API process could not start: ${err.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) =>
      resolve(code ?? 128 + (signal ? ((constants.signals[signal] as number | undefined) ?? 0) : 0)),
    );
  });
  return {
    async serve() {
      if (child.exitCode !== null || child.signalCode !== null || !child.connected) {
        const code = await exited;
        options.log.error(
          `the API process ended (exit ${code}) before the pipeline finished; see its messages above, then run \`npm run serve\``,
        );
        return code || 1;
      }
      child.send('serve');
      // Ctrl-C reaches the API itself (same process group) and it shuts down gracefully; a
      // SIGTERM meant for npm start is passed on. Either way this process waits for the API.
      const ignore = () => {};
      const pass = () => child.kill('SIGTERM');
      process.on('SIGINT', ignore);
      process.on('SIGTERM', pass);
      try {
        return await exited;
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
