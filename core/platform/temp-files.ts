/**
 * Temporary siblings of atomic writes (`.<name>.tmp-<pid>-<host tag><random>`) and the rule for
 * sweeping the ones a killed process left behind.
 *
 * A temporary file is ours when its name has exactly that shape. It is stale, and may be removed
 * by whoever passes by, when
 *   - it was written on this host (same host tag) by a process that is no longer running, or
 *   - nothing has modified it for STALE_AFTER_MS (1 hour), whoever wrote it.
 * A live writer on this host is never disturbed (its pid answers `kill(pid, 0)`), so concurrent
 * runs in one workspace are safe. A writer on another host sharing the directory (an NFS remote,
 * a volume shared by pods) cannot be asked, so only the age rule applies to its files: it would
 * have to stall for an hour mid-write to lose its temp file, and then its rename fails loudly
 * rather than publishing anything wrong. Names without a host tag (written before the tag existed)
 * follow the age rule only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const STALE_AFTER_MS = 60 * 60 * 1000;

const TEMP_NAME = /^\.(.+)\.tmp-(\d+)-([0-9a-f]+)$/;
/** Bundle directories of the local registry use `.tmp-<pid>-<hex>` without a target name. */
const BARE_TEMP_NAME = /^\.tmp-(\d+)-([0-9a-f]+)$/;

let hostTagMemo: string | undefined;
/** 8 hex digits naming this host, so a pid is only ever judged on the host it belongs to. */
export function hostTag(): string {
  hostTagMemo ??= createHash('md5').update(hostname()).digest('hex').slice(0, 8);
  return hostTagMemo;
}

/** `<pid>-<host tag><8 random hex>`: unique on this host, and tells a sweeper whose it is. */
const uniqueTag = () => `${process.pid}-${hostTag()}${randomBytes(4).toString('hex')}`;

/** `dir/.<name>.tmp-<pid>-<host tag><8 random hex>` next to `path`. */
export function tempSiblingPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${uniqueTag()}`);
}

/** `dir/.tmp-<pid>-<host tag><8 random hex>`: a temporary whose final name is known only once it is complete (a registry bundle). */
export function tempPathIn(dir: string): string {
  return join(dir, `.tmp-${uniqueTag()}`);
}

export interface TempName {
  /** The file the temporary was going to become (null for bare `.tmp-…` names). */
  target: string | null;
  pid: number;
  /** Host tag when the name has one (16 hex digits after the pid), else null. */
  host: string | null;
}

export function parseTempName(name: string): TempName | null {
  const m = TEMP_NAME.exec(name);
  const bare = m ? null : BARE_TEMP_NAME.exec(name);
  if (!m && !bare) return null;
  const pid = Number(m ? m[2] : bare![1]);
  const hex = m ? m[3] : bare![2];
  return { target: m ? m[1] : null, pid, host: hex.length === 16 ? hex.slice(0, 8) : null };
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

export interface SweepOptions {
  /** Only temporaries of this target name (`prepared` for `.prepared.tmp-…`; null: bare `.tmp-…`). */
  target?: string | null;
  /** Walk subdirectories too (cache and remote trees). */
  recursive?: boolean;
  now?: number;
  isAlive?: (pid: number) => boolean;
  staleAfterMs?: number;
}

export function isStaleTemp(parsed: TempName, mtimeMs: number, opts: SweepOptions = {}): boolean {
  const now = opts.now ?? Date.now();
  if (now - mtimeMs >= (opts.staleAfterMs ?? STALE_AFTER_MS)) return true;
  if (parsed.host !== hostTag() || parsed.pid === process.pid) return false;
  return !(opts.isAlive ?? processAlive)(parsed.pid);
}

/** Remove stale temporaries in `dir` (see the rule above); returns the paths removed. */
export async function sweepStaleTemps(dir: string, opts: SweepOptions = {}): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    const parsed = parseTempName(e.name);
    if (parsed && (opts.target === undefined || parsed.target === opts.target)) {
      let mtimeMs: number;
      try {
        mtimeMs = (await stat(path)).mtimeMs;
      } catch {
        continue; // its writer just renamed or removed it
      }
      if (!isStaleTemp(parsed, mtimeMs, opts)) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } else if (opts.recursive && e.isDirectory()) {
      removed.push(...(await sweepStaleTemps(path, opts)));
    }
  }
  return removed;
}
