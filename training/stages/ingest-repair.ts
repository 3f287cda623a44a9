/**
 * Bringing the raw store and data.dvc back in step after an interrupted ingest. Ingest writes the
 * batch files, then the manifest, then data.dvc (cache objects first); a kill between any two of
 * those steps leaves one of three states, each repaired on the next run before it appends:
 *   - stale temporaries of atomic writes → removed (core/platform/temp-files.ts's rule);
 *   - a batch file the manifest does not list (written just before the kill) → removed, the run
 *     writes it again;
 *   - data.dvc recording an older version of which the store is an append → data.dvc rewritten
 *     (as `dvc add` does: objects into the cache, then the .dvc file atomically).
 * Any other disagreement (the store is behind data.dvc, a recorded batch changed, another source)
 * is refused: recording it would fork the data history.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sweepStaleTemps } from '../../core/platform/temp-files.ts';
import { readTextIfExists } from '../../core/platform/atomic.ts';
import { compareWithRecorded, type RecordedComparison } from '../../core/dvc/recorded.ts';
import { parseDvcFile } from '../../core/dvc/dvcfile.ts';
import type { Logger } from '../../core/platform/log.ts';
import { MANIFEST_FILE, RAW_DIR } from '../contracts/paths.ts';
import { manifestSchema, type RawManifest } from '../contracts/raw-store.ts';

const BATCH_FILE = /^batch-\d{6}\.parquet$/;

/** Remove what an interrupted run left in the store; then, if data.dvc lags behind it, call `record`. */
export async function reconcileStore(
  repoRoot: string,
  manifest: RawManifest | null,
  record: () => Promise<void>,
  log: Logger,
): Promise<void> {
  const dir = join(repoRoot, RAW_DIR);
  const swept = await sweepStaleTemps(dir);
  const listed = new Set((manifest?.batches ?? []).map((b) => b.file));
  const orphans = (await readdir(dir).catch(() => [] as string[])).filter((f) => BATCH_FILE.test(f) && !listed.has(f));
  for (const f of orphans) await rm(join(dir, f), { force: true });
  if (swept.length + orphans.length)
    log.info(`removed ${swept.length + orphans.length} file(s) an interrupted ingest left in ${RAW_DIR}/`, {
      unlisted_batches: orphans.join(', ') || 'none',
    });
  if (!manifest) return;
  const cmp = await compareWithRecorded(RAW_DIR, { repoRoot, log });
  if (cmp.recorded !== null && cmp.current?.md5 === cmp.recorded) return;
  if (cmp.recorded !== null) {
    const why = await whyNotAnAppend(cmp, manifest);
    if (why) {
      throw new Error(
        `${RAW_DIR}/ differs from the version data.dvc records (${cmp.recorded}) in a way an interrupted ingest does not explain: ${why}. Restore the recorded version with \`npm run data:pull\`, or record ${RAW_DIR}/ as it is with \`node --import tsx training/dvc/cli.ts add ${RAW_DIR}\`.`,
      );
    }
    log.warn(
      `data.dvc is behind ${RAW_DIR}/ (an earlier ingest stopped after writing batches); recording the store now`,
      { recorded: cmp.recorded, store: cmp.current?.md5 },
    );
  }
  await record();
}

/** Null when `current` is the recorded store plus appended batches (the last partial one may have grown). */
export async function whyNotAnAppend(cmp: RecordedComparison, current: RawManifest): Promise<string | null> {
  if (!cmp.recordedEntries)
    return "the recorded version is not in this machine's DVC cache, so ingest cannot tell which is newer";
  const bytes = await cmp.readRecorded(MANIFEST_FILE);
  let parsed;
  try {
    parsed = bytes && manifestSchema.safeParse(JSON.parse(bytes.toString('utf8')));
  } catch {
    parsed = null;
  }
  if (!parsed || !parsed.success) return `the recorded version has no readable ${MANIFEST_FILE}`;
  const recorded = parsed.data;
  if (recorded.source.uri !== current.source.uri || recorded.batch_size !== current.batch_size)
    return 'it was filled from another source or with another batch size';
  if (recorded.batches.length > current.batches.length)
    return `data.dvc records ${recorded.batches.length} batches, ${RAW_DIR}/ holds ${current.batches.length}: the store is behind`;
  const md5Now = new Map(cmp.current?.entries.map((e) => [e.relpath, e.md5]));
  const md5Then = new Map(cmp.recordedEntries.map((e) => [e.relpath, e.md5]));
  for (const [i, was] of recorded.batches.entries()) {
    const now = current.batches[i];
    if (was.file !== now.file || was.range[0] !== now.range[0] || now.rows < was.rows)
      return `batch ${was.file} is not the one recorded`;
    const complete = was.rows === recorded.batch_size;
    if (complete && (now.rows !== was.rows || md5Now.get(was.file) !== md5Then.get(was.file)))
      return `batch ${was.file} changed since it was recorded`;
  }
  return null;
}

/**
 * The version data.dvc records when the raw store itself is missing (no manifest in data/): a
 * clone or a CI runner that did not fetch it. Null when data/ has its manifest or nothing is
 * recorded (the first ingest of a new store).
 */
export async function recordedWithoutStore(repoRoot: string, manifest: RawManifest | null): Promise<string | null> {
  if (manifest) return null;
  const dvcFile = join(repoRoot, `${RAW_DIR}.dvc`);
  const text = await readTextIfExists(dvcFile);
  if (text === null) return null;
  return parseDvcFile(text, dvcFile).outs.find((o) => o.path.replace(/\/+$/, '') === RAW_DIR)?.md5 ?? null;
}

/**
 * After rebuilding a missing store from the source: it must be the version data.dvc records, or
 * the next commit would move data.dvc back to whatever the source gives today (fewer batches than
 * were ingested and pushed, say). Otherwise the rebuilt store is removed, data.dvc is left as it
 * is, and the error says how to fetch the recorded version.
 */
export async function checkRebuilt(
  repoRoot: string,
  recorded: string,
  rebuilt: RawManifest | null,
  log: Logger,
): Promise<void> {
  const cmp = await compareWithRecorded(RAW_DIR, { repoRoot, log });
  if (cmp.current?.md5 === recorded) {
    log.info(`${RAW_DIR}/ was missing; rebuilt from the source, it is the version data.dvc records (${recorded})`);
    return;
  }
  await rm(join(repoRoot, RAW_DIR), { recursive: true, force: true });
  const batches = rebuilt?.batches ?? [];
  throw new Error(
    `${RAW_DIR}/ is missing and data.dvc records version ${recorded}, but rebuilding it from data.source gives another version ` +
      `(${batches.length} batch(es), ${batches.reduce((n, b) => n + b.rows, 0)} records, ${cmp.current?.md5 ?? 'nothing'}): ` +
      `the recorded data is not on this machine. Fetch it with \`npm run data:pull\` (in CI the remote must hold it: ` +
      `\`npm run data:push\` where it was ingested). To start a new raw store from this source instead, move data.dvc aside and run again. ` +
      `The rebuilt ${RAW_DIR}/ was removed; data.dvc is unchanged.`,
  );
}
