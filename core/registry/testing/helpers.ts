/**
 * Helpers shared by the registry's tests (and by tests of code that uses the registry); temporary
 * directories come from harness/testing/lifecycle.ts, like every test's.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Write `files` (relative `/` paths → content) under `dir` and return `dir`. */
export async function makeBundle(dir: string, files: Record<string, string | Uint8Array>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const path = join(dir, ...rel.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
  return dir;
}

/** A clock that advances `stepMs` on every reading, so each event has its own time. */
export function steppingClock(start = '2025-03-01T12:00:00.000Z', stepMs = 1000): () => Date {
  let t = Date.parse(start) - stepMs;
  return () => new Date((t += stepMs));
}
