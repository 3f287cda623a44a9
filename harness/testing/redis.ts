/**
 * A real redis-server for tests and the cluster run (Debian `redis-server`): on a free 127.0.0.1
 * port, no persistence, in the foreground as a child of the caller, so it is stopped with it. It
 * can be stopped and started again on the same port (a store that dies mid-run and comes back), or
 * paused with SIGSTOP (a store that hangs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from '../../core/platform/free-port.ts';
import { stopChild, watchOutput } from './lifecycle.ts';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** A skip reason for node:test when redis-server is not installed (.ci/run installs it). */
export const redisMissing = (): string | false =>
  existsSync(REDIS_SERVER) ? false : `skipped: ${REDIS_SERVER} missing (apt-get install redis-server; .ci/run does)`;

export interface TestRedis {
  url: string;
  port: number;
  /** The running server's process (undefined while stopped). */
  child(): ChildProcess | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** The settings the Kubernetes component uses too: bounded memory, expiring keys evicted first. */
export const REDIS_ARGS = [
  '--save',
  '',
  '--appendonly',
  'no',
  '--maxmemory',
  '64mb',
  '--maxmemory-policy',
  'volatile-ttl',
];

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let current: ChildProcess | undefined;
  const start = async () => {
    const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', ...REDIS_ARGS], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = watchOutput(child);
    current = child;
    // Redis prints this line once it accepts connections.
    await out.waitForLine(/Ready to accept connections/);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child: () => current,
    start,
    stop: async () => {
      if (current) await stopChild(current, { graceMs: 2000 });
      current = undefined;
    },
  };
}
