/**
 * Remembers file md5s by (path, size, mtime, inode), like DVC's state database, so that an
 * unchanged multi-hundred-MB workspace is re-checked in milliseconds instead of re-read.
 *
 * Racy entries: a file rewritten within the filesystem's mtime granularity right after we hashed
 * it would keep the same stat and a stale md5. So an entry is only trusted when the file was
 * already more than RACY_MS old at the moment it was hashed; a fresh file is simply hashed again
 * on the next run, after which its entry is trusted.
 */
import { readFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { writeFileAtomic } from '../platform/atomic.ts';
import { md5File } from './hash.ts';

const RACY_MS = 1000;
const FORGET_AFTER_MS = 14 * 24 * 3600 * 1000;

type Entry = [size: number, mtimeMs: number, ino: number, md5: string, hashedAt: number, seenAt: number];

export class HashCache {
  private dirty = false;
  hits = 0;
  misses = 0;

  private constructor(
    private readonly file: string | null,
    private readonly entries: Map<string, Entry>,
    private readonly now: () => number,
  ) {}

  /** `file` null keeps the cache in memory only. A missing or unreadable file starts empty. */
  static async open(file: string | null, now: () => number = Date.now): Promise<HashCache> {
    const entries = new Map<string, Entry>();
    if (file) {
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as {
          version?: number;
          entries?: Record<string, Entry>;
        };
        if (parsed.version === 1 && parsed.entries) {
          for (const [k, v] of Object.entries(parsed.entries))
            if (Array.isArray(v) && v.length === 6) entries.set(k, v);
        }
      } catch {
        // A corrupt or absent cache only costs a re-hash; never fail a run over it.
      }
    }
    return new HashCache(file, entries, now);
  }

  /** md5 of the file at absolute path `path`, whose current stat is `st`. */
  async md5(path: string, st: Stats): Promise<string> {
    const e = this.entries.get(path);
    const now = this.now();
    if (e && e[0] === st.size && e[1] === st.mtimeMs && e[2] === st.ino && e[4] - e[1] > RACY_MS) {
      this.hits++;
      if (now - e[5] > 3600_000) {
        e[5] = now;
        this.dirty = true;
      }
      return e[3];
    }
    this.misses++;
    const md5 = await md5File(path);
    this.entries.set(path, [st.size, st.mtimeMs, st.ino, md5, now, now]);
    this.dirty = true;
    return md5;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    const now = this.now();
    const out: Record<string, Entry> = {};
    for (const [k, v] of this.entries) if (now - v[5] < FORGET_AFTER_MS) out[k] = v;
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, entries: out }));
    this.dirty = false;
  }
}
