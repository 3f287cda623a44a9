/**
 * An exclusive lock file for the local backend's read-modify-write of a state document. The
 * file is written whole under a temporary name and hard-linked into place (link fails with
 * EEXIST like O_EXCL, but the lock never exists half-written). It records pid, host and a token,
 * so a lock left by a process that died (SIGKILL, power loss) is recognised and broken: same
 * host and the pid is gone, or another host's lock older than `staleMs`.
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import { link, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { processAlive, tempSiblingPath } from '../platform/temp-files.ts';
import type { Logger } from '../platform/log.ts';
import { RegistryError } from './names.ts';

export interface LockOptions {
  /** Give up waiting after this long (default 30 s). */
  timeoutMs?: number;
  /** Another host's lock older than this is considered abandoned (default 10 min). */
  staleMs?: number;
  /** Whether a pid on this host is still running (default: `kill(pid, 0)`). */
  isAlive?: (pid: number) => boolean;
  hostname?: string;
  now?: () => number;
  log?: Logger;
}

export interface LockInfo {
  pid: number;
  host: string;
  token: string;
  acquired_at: string;
}

export interface HeldLock {
  readonly path: string;
  readonly info: LockInfo;
  release(): Promise<void>;
}

/** A lock file that cannot be parsed is only ever one being written; older than this it is junk. */
const UNREADABLE_LOCK_STALE_MS = 5_000;
/** The `.break` guard is held for two small file operations; older than this its holder died. */
const BREAK_GUARD_STALE_MS = 10_000;
const MAX_POLL_MS = 50;

export { processAlive };

interface Observed {
  info: LockInfo | null;
  ino: number;
  mtimeMs: number;
}

async function observe(path: string): Promise<Observed | null> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let info: LockInfo | null = null;
    try {
      const raw = JSON.parse(text) as Partial<LockInfo>;
      if (typeof raw.pid === 'number' && typeof raw.host === 'string' && typeof raw.token === 'string')
        info = raw as LockInfo;
    } catch {
      info = null;
    }
    return { info, ino: st.ino, mtimeMs: st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function sameLock(a: Observed, b: Observed): boolean {
  if (a.info && b.info) return a.info.token === b.info.token;
  return !a.info && !b.info && a.ino === b.ino && a.mtimeMs === b.mtimeMs;
}

const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Create `path` holding `content` unless it exists; false when it does. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const tmp = tempSiblingPath(path);
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!LINK_UNSUPPORTED.has(code)) throw err;
    return createWithOExcl(path, content);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function createWithOExcl(path: string, content: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

export async function acquireLock(path: string, opts: LockOptions = {}): Promise<HeldLock> {
  const now = opts.now ?? Date.now;
  const host = opts.hostname ?? osHostname();
  const isAlive = opts.isAlive ?? processAlive;
  const staleMs = opts.staleMs ?? 10 * 60_000;
  const deadline = now() + (opts.timeoutMs ?? 30_000);
  const info: LockInfo = {
    pid: process.pid,
    host,
    token: randomBytes(12).toString('hex'),
    acquired_at: new Date(now()).toISOString(),
  };

  const isStale = (o: Observed): boolean => {
    if (!o.info) return now() - o.mtimeMs > UNREADABLE_LOCK_STALE_MS;
    if (o.info.host === host) return !isAlive(o.info.pid);
    return now() - Date.parse(o.info.acquired_at) > staleMs;
  };

  let delay = 5;
  for (;;) {
    info.acquired_at = new Date(now()).toISOString();
    if (await createExclusive(path, JSON.stringify(info) + '\n')) {
      return { path, info, release: () => releaseLock(path, info.token) };
    }
    const holder = await observe(path);
    if (!holder) continue; // released between our attempt and the look
    if (isStale(holder)) {
      await breakStaleLock(path, holder, opts.log);
      continue;
    }
    if (now() > deadline) {
      const who = holder.info
        ? `pid ${holder.info.pid} on ${holder.info.host} since ${holder.info.acquired_at}`
        : 'an unreadable lock file';
      throw new RegistryError(
        `timed out waiting for ${path}, held by ${who}; if that process is gone, delete the lock file and retry`,
        'conflict',
      );
    }
    // Jitter keeps waiters from retrying in lockstep.
    await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
    delay = Math.min(delay * 2, MAX_POLL_MS);
  }
}

/**
 * Remove a stale lock, but only the very lock judged stale: a `.break` guard makes breakers take
 * turns, and the lock is re-read under it, so a fresh lock taken meanwhile is never removed.
 */
async function breakStaleLock(path: string, judged: Observed, log?: Logger): Promise<void> {
  const guard = `${path}.break`;
  if (!(await createExclusive(guard, JSON.stringify({ pid: process.pid }) + '\n'))) {
    const st = await stat(guard).catch(() => null);
    if (st && Date.now() - st.mtimeMs > BREAK_GUARD_STALE_MS) await unlink(guard).catch(() => undefined);
    else await new Promise((r) => setTimeout(r, 10));
    return;
  }
  try {
    const current = await observe(path);
    if (current && sameLock(current, judged)) {
      await unlink(path);
      log?.warn('removed a stale registry lock', {
        path,
        pid: judged.info?.pid ?? null,
        host: judged.info?.host ?? null,
        since: judged.info?.acquired_at ?? null,
      });
    }
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  const current = await observe(path);
  if (current?.info?.token === token) await unlink(path);
}

export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const held = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    await held.release();
  }
}
