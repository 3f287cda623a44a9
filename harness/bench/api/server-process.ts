/**
 * Starts an HTTP server script (the real API or the trivial reference) as a child process on a
 * free 127.0.0.1 port, waits for `GET /readyz` → 200 and stops it with SIGTERM. The child's output
 * is kept (last lines only) so a failure can say what the server printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { freePort } from '../../../core/platform/free-port.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const REAL_API_SCRIPT = fileURLToPath(new URL('../../../api/server.ts', import.meta.url));
export const TRIVIAL_SERVER_SCRIPT = fileURLToPath(new URL('./trivial-server.ts', import.meta.url));

export class ServerNotReadyError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

export interface ServerHandle {
  name: string;
  url: string;
  port: number;
  pid: number | undefined;
  /** The last lines the child printed (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface StartOptions {
  name: string;
  script: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  cwd?: string;
  /** `taskset -c` list the server (and its cluster workers) may run on, e.g. "1"; unset: any core. */
  cpus?: string;
  /** Node flags before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** A cgroup's `cgroup.procs`: the server joins that group before node starts (cgroup.ts). */
  cgroupProcs?: string;
}

function tailBuffer(maxLines: number) {
  const lines: string[] = [];
  let partial = '';
  return {
    push: (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
    },
    text: () => [...lines, partial].filter(Boolean).join('\n'),
  };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return once(child, 'exit').then(
    ([code]) => code as number | null,
    () => null,
  );
}

export async function startServer(options: StartOptions): Promise<ServerHandle> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = [process.execPath, ...(options.nodeArgs ?? []), '--import', 'tsx', options.script];
  // taskset execs node in its own process, so the pid stays the server's.
  const pinned = options.cpus ? ['taskset', '-c', options.cpus, ...node] : node;
  // sh writes its own pid into the group, then execs: node and the workers it forks start inside.
  const argv = options.cgroupProcs
    ? ['sh', '-c', 'echo $$ > "$0" && exec "$@"', options.cgroupProcs, ...pinned]
    : pinned;
  const child = spawn(argv[0], argv.slice(1), {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = tailBuffer(40);
  child.stdout?.on('data', tail.push);
  child.stderr?.on('data', tail.push);
  const exited = exitOf(child);

  const handle: ServerHandle = {
    name: options.name,
    url,
    port,
    pid: child.pid,
    output: tail.text,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  let lastStatus = 'no answer';
  while (Date.now() < deadline && !exitedEarly) {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      lastStatus = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
      if (res.status === 200) return handle;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const why = exitedEarly
    ? `exited (code ${child.exitCode ?? child.signalCode})`
    : `was not ready after ${Math.round((options.readyTimeoutMs ?? 60_000) / 1000)} s (last /readyz: ${lastStatus})`;
  await handle.stop(3_000);
  throw new ServerNotReadyError(`${options.name} (${options.script}) ${why}`, tail.text());
}

/** Starts a server, runs `fn`, and always stops the server. */
export async function withServer<T>(options: StartOptions, fn: (server: ServerHandle) => Promise<T>): Promise<T> {
  const server = await startServer(options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
