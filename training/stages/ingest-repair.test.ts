import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingest, readManifest, RAW_DIR } from './ingest.ts';
import { hashDir } from '../../core/dvc/hash.ts';
import { status } from '../../core/dvc/status.ts';
import { hostTag } from '../../core/platform/temp-files.ts';
import { flightsCsv, quietLog, tempRepo, testParams, writeSource } from '../../harness/testing/training/fixtures.ts';

const CHILD = fileURLToPath(new URL('./testdata/ingest-killed-child.ts', import.meta.url));

async function recordedMd5(repo: string): Promise<string> {
  return /md5: ([0-9a-f]{32}\.dir)/.exec(await readFile(join(repo, 'data.dvc'), 'utf8'))![1];
}

async function storeRepo(maxBatches: number) {
  const repo = await tempRepo();
  const src = await writeSource(repo, 'flights.csv', flightsCsv(50));
  const params = await testParams({
    data: { source: src },
    ingest: { batch_size: 10, batches_per_run: 1, max_batches: maxBatches },
  });
  return { repo, params };
}

/** Run ingest in a child process that SIGKILLs itself between writing the batches and data.dvc. */
async function killedIngest(repo: string, params: unknown): Promise<NodeJS.Signals | null> {
  const args = join(repo, 'child-args.json');
  await writeFile(args, JSON.stringify({ repo, params }));
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
}

test('an ingest killed between writing the batches and data.dvc is repaired by the next run, even when it has nothing to add', async () => {
  const { repo, params } = await storeRepo(2);
  const log = quietLog();
  await ingest({ repoRoot: repo, params, log }); // batch 0, recorded in data.dvc
  const v1 = await recordedMd5(repo);
  assert.equal((await hashDir(join(repo, RAW_DIR))).md5, v1);

  assert.equal(await killedIngest(repo, params), 'SIGKILL');
  assert.equal((await readManifest(repo))!.batches.length, 2, 'the killed run wrote batch 1 and the manifest');
  assert.equal(await recordedMd5(repo), v1, 'data.dvc still records one batch');
  assert.notEqual((await hashDir(join(repo, RAW_DIR))).md5, v1);

  // The cap (2 batches) is reached: this run appends nothing, and must still repair data.dvc.
  const r = await ingest({ repoRoot: repo, params, log });
  assert.equal(r.added, 0);
  assert.equal(await recordedMd5(repo), (await hashDir(join(repo, RAW_DIR))).md5, 'data.dvc records the store');
  assert.match(log.lines.join('\n'), /data\.dvc is behind data\/ .*recording the store now/);
  const [st] = await status({ repoRoot: repo, log, cloud: false });
  assert.deepEqual([st.path, st.workspace, st.notInCache], ['data', 'ok', 0]);
});

test("unlisted batch files and stale temporaries of a killed ingest are removed; a live writer's temporary is kept", async () => {
  const { repo, params } = await storeRepo(3);
  const log = quietLog();
  await ingest({ repoRoot: repo, params, log });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const data = join(repo, RAW_DIR);
  await writeFile(join(data, 'batch-000001.parquet'), 'half-written batch the manifest never listed');
  await writeFile(join(data, `.manifest.json.tmp-${dead}-${hostTag()}0badc0de`), '{"format":');
  const live = `.manifest.json.tmp-${process.pid}-${hostTag()}0000beef`;
  await writeFile(join(data, live), 'in flight');
  const r = await ingest({ repoRoot: repo, params, log });
  assert.equal(r.added, 1);
  const files = await readdir(data);
  assert.deepEqual(
    files.filter((f) => f.startsWith('.')),
    [live],
  );
  assert.deepEqual(files.filter((f) => f.startsWith('batch-')).sort(), [
    'batch-000000.parquet',
    'batch-000001.parquet',
  ]);
  assert.equal((await readManifest(repo))!.batches[1].rows, 10, 'batch 1 was written again, whole');
  assert.equal(await recordedMd5(repo), (await hashDir(join(repo, RAW_DIR))).md5);
});

test('a store behind data.dvc (newer data.dvc pulled with git, data not pulled) is refused, not recorded backwards', async () => {
  const ahead = await storeRepo(2);
  const log = quietLog();
  await ingest({ repoRoot: ahead.repo, params: ahead.params, log });
  await ingest({ repoRoot: ahead.repo, params: ahead.params, log }); // 2 batches recorded
  const behind = await tempRepo();
  const params = ahead.params; // same source file
  await ingest({ repoRoot: behind, params: { ...params, ingest: { ...params.ingest, max_batches: 1 } }, log });
  // git pull: the newer data.dvc arrives (and this machine happens to have its objects cached).
  const dvcText = await readFile(join(ahead.repo, 'data.dvc'), 'utf8');
  await writeFile(join(behind, 'data.dvc'), dvcText);
  await cp(join(ahead.repo, '.dvc', 'cache'), join(behind, '.dvc', 'cache'), { recursive: true });
  await assert.rejects(
    ingest({ repoRoot: behind, params, log }),
    /differs from the version data\.dvc records .*records 2 batches, data\/ holds 1: the store is behind.*npm run data:pull/s,
  );
  assert.equal(await readFile(join(behind, 'data.dvc'), 'utf8'), dvcText, 'data.dvc untouched');
});

test('a missing data/ is rebuilt only when that gives the version data.dvc records; otherwise refused, data.dvc untouched', async () => {
  // Ingested twice (2 batches) and recorded; another machine has the commit but not the data.
  const { repo, params } = await storeRepo(0);
  const log = quietLog();
  await ingest({ repoRoot: repo, params, log });
  await ingest({ repoRoot: repo, params, log });
  const twoBatches = await recordedMd5(repo);
  const { rm } = await import('node:fs/promises');
  await rm(join(repo, RAW_DIR), { recursive: true });
  await rm(join(repo, '.dvc', 'cache'), { recursive: true, force: true });
  const dvcText = await readFile(join(repo, 'data.dvc'), 'utf8');
  await assert.rejects(ingest({ repoRoot: repo, params, log }), (err: Error) => {
    assert.match(err.message, new RegExp(`data/ is missing and data.dvc records version ${twoBatches}`));
    assert.match(err.message, /1 batch\(es\), 10 records/);
    assert.match(err.message, /npm run data:pull/);
    assert.match(err.message, /move data\.dvc aside/);
    return true;
  });
  assert.equal(await readFile(join(repo, 'data.dvc'), 'utf8'), dvcText, 'data.dvc untouched');
  assert.equal(await readManifest(repo), null, 'the rebuilt store is removed');
  // --grow cannot stand in for the missing batches either.
  await assert.rejects(ingest({ repoRoot: repo, params, log, grow: true }), /data\/ is missing/);
  assert.equal(await readFile(join(repo, 'data.dvc'), 'utf8'), dvcText);

  // A fresh clone of a store at its cap (one batch recorded) rebuilds it, and grows from there.
  const first = await storeRepo(1);
  await ingest({ repoRoot: first.repo, params: first.params, log });
  const oneBatch = await recordedMd5(first.repo);
  await rm(join(first.repo, RAW_DIR), { recursive: true });
  const rebuilt = await ingest({ repoRoot: first.repo, params: first.params, log });
  assert.equal(rebuilt.batches, 1);
  assert.equal(await recordedMd5(first.repo), oneBatch);
  await rm(join(first.repo, RAW_DIR), { recursive: true });
  const grown = await ingest({ repoRoot: first.repo, params: first.params, log, grow: true });
  assert.equal(grown.batches, 2);
  assert.notEqual(await recordedMd5(first.repo), oneBatch);
});
