/**
 * `npm start` serves once the pipeline has finished, but it starts the API process at once: the
 * API loads its modules and TensorFlow.js backend (Koa, tfjs + WebAssembly, zod: 2–5 s here) while
 * the pipeline runs, and reads params.yaml and the registry only when told to serve
 * (core/platform/parent-go.ts). So it serves the version the pipeline just registered, exactly as
 * `npm run serve` started afterwards would, only sooner. A process, not an import: the API never
 * shares a process (or a heap) with training.
 */
import { createServer } from 'node:net';
import { startWaitingChild } from '../core/platform/parent-go.ts';
import type { Logger } from '../core/platform/log.ts';

export const API_ARGV = ['--import', 'tsx', 'api/server.ts'];

export interface EarlyApi {
  /** The production model is final (register is done): the API reads the registry and loads it. */
  registered(): void;
  /** Serve; resolves with the API's exit code once it stops. */
  serve(): Promise<number>;
  /** The pipeline failed: the waiting API ends without serving. */
  cancel(): Promise<void>;
  /** The API process's exit code, once it ends. */
  exited: Promise<number>;
}

export function startApiEarly(options: {
  repoRoot: string;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** The API's command line after `node` (tests). */
  argv?: string[];
}): EarlyApi {
  const env = { ...(options.env ?? process.env) };
  // npm start gives this one to the pipeline only (`REGISTER_PROMOTE=… cli.ts start`).
  delete env.REGISTER_PROMOTE;
  const child = startWaitingChild(options.argv ?? API_ARGV, {
    cwd: options.repoRoot,
    env,
    onError: (err) => options.log.error(`the API process could not start: ${err.message}`),
  });
  return {
    registered: () => child.load(),
    async serve() {
      const { code, early } = await child.go();
      if (!early) return code;
      options.log.error(
        `the API process ended (exit ${code}) before the pipeline finished; see its messages above, then run \`npm run serve\``,
      );
      return code || 1;
    },
    cancel: () => child.cancel(),
    exited: child.exited,
  };
}

/**
 * Whether HOST:PORT (the API's defaults: 127.0.0.1, 8080) is free to listen on, tried and released
 * before the pipeline: a port taken by an earlier `npm start` is then said in a second, not after
 * training. Null when free; else the reason, with what to do.
 */
export function portProblem(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const host = env.HOST || '127.0.0.1';
  const port = Number(env.PORT || 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return Promise.resolve(null); // the API names it
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      resolve(
        err.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use (an earlier \`npm start\` or \`npm run serve\` still running?): stop it, or choose another port: PORT=${port + 1} npm start`
          : null,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve(null)));
  });
}
