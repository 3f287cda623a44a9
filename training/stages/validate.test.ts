import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ingest } from './ingest.ts';
import { validate, VALIDATED_DIR, REJECTS_FILE, VALIDATE_METRICS } from './validate.ts';
import { md5File } from '../../core/dvc/index.ts';
import {
  flightsCsv,
  noTrack,
  quietLog,
  tempRepo,
  testParams,
  writeSource,
} from '../../harness/testing/training/fixtures.ts';
import type { Params } from '../../core/schemas/params.ts';
import { readMetrics } from '../../core/schemas/metrics-files.ts';

async function ingestAndValidate(repo: string, content: string | Buffer, overrides: Partial<Params['validate']> = {}) {
  const src = await writeSource(repo, 'src.csv', content);
  const params = await testParams({
    data: { source: src },
    ingest: { batch_size: 50, batches_per_run: 0, max_batches: 0 },
    validate: overrides,
  });
  await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
  return validate({ repoRoot: repo, params, log: quietLog() });
}

function corrupt(csv: string, edits: Record<number, (fields: string[]) => string[]>): string {
  const lines = csv.split('\n');
  for (const [i, edit] of Object.entries(edits)) lines[Number(i)] = edit(lines[Number(i)].split(',')).join(',');
  return lines.join('\n');
}

test('wrong types, missing values and out-of-range rows go to rejects.csv with source line and reason', async () => {
  const repo = await tempRepo();
  const csv = corrupt(flightsCsv(120), {
    3: (f) => [f[0], 'abc', ...f.slice(2)], // delay not a number
    10: (f) => [f[0], f[1], '', ...f.slice(3)], // distance missing
    50: (f) => [f[0], f[1], '99999', ...f.slice(3)], // distance out of range
  });
  const m = await ingestAndValidate(repo, csv, { max_reject_rate: 0.05 });
  assert.equal(m.rows_in, 120);
  assert.equal(m.rows_rejected, 3);
  assert.deepEqual(m.rejects_by_reason, { wrong_type: 1, missing: 1, out_of_range: 1 });
  const rejects = (await readFile(join(repo, VALIDATED_DIR, REJECTS_FILE), 'utf8')).trim().split('\n');
  assert.equal(rejects[0], 'batch,source_row,reasons,details');
  assert.equal(rejects[1], '0,4,wrong_type,"delay: wrong_type ""abc"""');
  assert.match(rejects[2], /^0,11,missing,distance: missing$/);
  assert.equal(rejects[3], '0,51,out_of_range,"distance: out_of_range ""99999"""');
  assert.equal((await readMetrics('validate', { repo: repo }))?.rows_rejected, 3);
});

test('too many rejects fail the stage with a summary and keep the previous outputs', async () => {
  const repo = await tempRepo();
  await ingestAndValidate(repo, flightsCsv(40));
  const before = await md5File(join(repo, VALIDATED_DIR, 'data.parquet'));
  const metricsBefore = await readFile(join(repo, VALIDATE_METRICS), 'utf8');
  const bad = corrupt(
    flightsCsv(40),
    Object.fromEntries([...Array(10).keys()].map((i) => [i + 1, (f: string[]) => [f[0], 'x', ...f.slice(2)]])),
  );
  const repo2Src = await writeSource(repo, 'src.csv', bad);
  const params = await testParams({
    data: { source: repo2Src },
    ingest: { batch_size: 50, batches_per_run: 0, max_batches: 0 },
    validate: { max_reject_rate: 0.1 },
  });
  // Re-ingest from scratch into the same repo by growing nothing: rewrite the raw store with the bad file.
  const { rm } = await import('node:fs/promises');
  await rm(join(repo, 'data'), { recursive: true });
  await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
  await assert.rejects(
    validate({ repoRoot: repo, params, log: quietLog() }),
    /10 of 40 rows rejected \(25\.00% > validate\.max_reject_rate 10\.00%\): wrong_type: 10\. First bad row: source row 2, delay wrong_type "x".*previous outputs were kept/s,
  );
  assert.equal(await md5File(join(repo, VALIDATED_DIR, 'data.parquet')), before);
  assert.equal(await readFile(join(repo, VALIDATE_METRICS), 'utf8'), metricsBefore);
  assert.match(await readFile(join(repo, '.pipeline', 'failed', 'validate-rejects.csv'), 'utf8'), /^batch,source_row/);
});

test('a missing required column stops the stage naming the column', async () => {
  const repo = await tempRepo();
  const csv = flightsCsv(5)
    .split('\n')
    .map((l) => l.split(',').slice(0, 4).join(','))
    .join('\n');
  await assert.rejects(
    ingestAndValidate(repo, csv),
    /required column\(s\) "destination" missing from the data \(it has: date, delay, distance, origin\)/,
  );
});

test('non-UTF-8 bytes and a huge field reject only their rows', async () => {
  const repo = await tempRepo();
  const lines = flightsCsv(100).split('\n');
  const latin1Row = Buffer.from(lines[5].replace(/,ATL$|,ORD$|,DFW$|,LAX$|,SFO$/, ',M\u00fcN'), 'latin1');
  const hugeRow = lines[7].replace(/,[A-Z]{3}$/, `,"${'Z'.repeat(100_000)}"`);
  const content = Buffer.concat([
    Buffer.from(lines.slice(0, 5).join('\n') + '\n'),
    latin1Row,
    Buffer.from('\n' + lines[6] + '\n' + hugeRow + '\n' + lines.slice(8).join('\n')),
  ]);
  const m = await ingestAndValidate(repo, content, { max_reject_rate: 0.05, max_field_bytes: 1024 });
  assert.equal(m.rows_rejected, 2);
  assert.equal(m.rejects_by_reason.invalid_utf8, 1);
  assert.equal(m.rejects_by_reason.field_too_large, 1);
  const rejects = await readFile(join(repo, VALIDATED_DIR, REJECTS_FILE), 'utf8');
  assert.match(rejects, /\n0,6,invalid_utf8;pattern_mismatch,/);
  assert.match(rejects, /\n0,8,field_too_large;missing,destination: field_too_large/);
});
