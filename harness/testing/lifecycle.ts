/**
 * The lifecycle of what a test starts, in one place: temporary directories removed when the tests
 * are done, HTTP stand-in servers on an ephemeral 127.0.0.1 port and their closing, JSON
 * posts, child processes (their output, a line they print, stopping them and waiting for the
 * exit) and waiting for a condition instead of sleeping for a while.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';

// ── temporary directories ──────────────────────────────────────────────────────────────────────

const madeDirs = new Set<string>();

/**
 * A new empty directory under the OS temporary directory, removed with everything in it when the
 * test process exits (under `node --test` each test file runs in a process of its own). Removal at
 * exit, not in a node:test `after` hook: such a hook belongs to whatever is running when it is
 * registered, and one registered from a `before` hook runs as soon as that hook ends.
 */
export async function tempDir(prefix = 'test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (madeDirs.size === 0) process.once('exit', removeMadeDirs);
  madeDirs.add(dir);
  return dir;
}

function removeMadeDirs(): void {
  for (const dir of madeDirs) {
    try {
      removeTreeSync(dir);
    } catch (err) {
      process.stderr.write(`could not remove the test directory ${dir}: ${(err as Error).message}\n`);
    }
  }
}

/** `rm -rf`, also when a test left read-only directories behind (as a non-root user meets them). */
export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    if (!isPermissionError(err)) throw err;
    makeWritable(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

function removeTreeSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (err) {
    if (!isPermissionError(err)) throw err;
    makeWritable(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

const isPermissionError = (err: unknown) => ['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '');

function makeWritable(dir: string): void {
  chmodSync(dir, 0o700);
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory() && !e.isSymbolicLink()) makeWritable(join(dir, e.name));
}

// ── HTTP servers and requests ──────────────────────────────────────────────────────────────────

export interface TestServer {
  server: Server;
  port: number;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** Closes open connections (keep-alive ones too) and resolves once the server is closed. */
  close: () => Promise<void>;
}

/** Listen on an ephemeral 127.0.0.1 port. */
export async function listen(server: Server): Promise<TestServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

/** A stand-in HTTP server answering with `handler`, listening on an ephemeral 127.0.0.1 port. */
export function serve(handler: RequestListener): Promise<TestServer> {
  return listen(createServer(handler));
}

/** Close `server` and its connections (keep-alive ones would otherwise hold `close` open); resolves when closed. */
export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}

/** A request's whole body as UTF-8 text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * POST `body` as JSON (a string is sent as is, to send malformed JSON); the answer's status and its
 * body parsed as JSON (the raw text when it is not JSON).
 */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read response bodies of every shape and assert on them; the assertion is the check (see eslint.config.mjs)
): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

// ── child processes ────────────────────────────────────────────────────────────────────────────

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when `child` has exited (at once if it already has); its pid is then really gone. */
export async function exited(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}

/**
 * Send `signal` (SIGTERM unless told) and wait for the exit; SIGKILL after `graceMs` if the child
 * is still there. Nothing to do for a child that already exited or never started.
 */
export async function stopChild(
  child: ChildProcess,
  { signal = 'SIGTERM', graceMs = 5_000 }: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<Exit> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const exit = exited(child);
  child.kill(signal);
  const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exit;
  } finally {
    clearTimeout(timer);
  }
}

export interface ChildOutput {
  /** The complete lines the child printed on stdout so far, in order. */
  readonly lines: readonly string[];
  /** Everything it printed, stdout and stderr interleaved as they arrived. */
  text: () => string;
  /** What it printed on stderr. */
  stderr: () => string;
  /**
   * The first stdout line matching `pattern`, already printed or still to come; rejects, quoting
   * the output, if the child exits before printing one.
   */
  waitForLine: (pattern: RegExp) => Promise<string>;
}

/** Start collecting a child's output (spawned with `stdio: [..., 'pipe', 'pipe']`). */
export function watchOutput(child: ChildProcess): ChildOutput {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let all = '';
  let stderr = '';
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    all += text;
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of waiters.filter((x) => x.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    all += text;
    stderr += text;
  });
  const exit = exited(child);
  return {
    lines,
    text: () => all,
    stderr: () => stderr,
    waitForLine: (pattern) => {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return Promise.race([
        new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
        exit.then(({ code, signal }) => {
          throw new Error(`child exited (${code ?? signal}) before printing ${pattern}:\n${all}`);
        }),
      ]);
    },
  };
}

// ── waiting for a condition ────────────────────────────────────────────────────────────────────

/**
 * Poll `probe` until it returns something other than `undefined` (a throw counts as "not yet") and
 * return that; fails after `timeoutMs`, naming `what`, the last error and the end of `output()`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  {
    timeoutMs = 30_000,
    intervalMs = 50,
    output,
  }: { timeoutMs?: number; intervalMs?: number; output?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  assert.fail(
    `timed out after ${timeoutMs} ms waiting for ${what}` +
      (last === undefined ? '' : ` (last error: ${last instanceof Error ? last.message : inspect(last)})`) +
      (output ? `\n${output().slice(-3000)}` : ''),
  );
}
