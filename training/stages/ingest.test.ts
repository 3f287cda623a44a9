import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ingest, readManifest, RAW_DIR } from './ingest.ts';
import { readParquetTable } from '../../core/data/parquet.ts';
import { cellValue } from '../../core/data/table.ts';
import {
  flightsCsv,
  noTrack,
  quietLog,
  tempRepo,
  testParams,
  writeSource,
} from '../../harness/testing/training/fixtures.ts';
import { serve } from '../../harness/testing/lifecycle.ts';

test('appends batches in time order, capped, and a re-run with the same params adds nothing', async () => {
  const repo = await tempRepo();
  const src = await writeSource(repo, 'flights.csv', flightsCsv(25, { shuffle: true }));
  const params = await testParams({
    data: { source: src },
    ingest: { batch_size: 10, batches_per_run: 1, max_batches: 2 },
  });
  const log = quietLog();

  const first = await ingest({ repoRoot: repo, params, log, track: noTrack });
  assert.equal(first.added, 1);
  const second = await ingest({ repoRoot: repo, params, log, track: noTrack });
  assert.equal(second.added, 1);
  assert.equal(second.rows, 20);
  const before = await readdir(join(repo, RAW_DIR));
  const third = await ingest({ repoRoot: repo, params, log, track: noTrack });
  assert.equal(third.added, 0, 'cap reached: idempotent');
  assert.deepEqual(await readdir(join(repo, RAW_DIR)), before);
  // A scheduled retrain grows the store past the cap, one run's worth at a time, to the source's end.
  const grown = await ingest({ repoRoot: repo, params, log, track: noTrack, grow: true });
  assert.deepEqual([grown.added, grown.batches, grown.rows], [1, 3, 25]);
  assert.equal(
    (await ingest({ repoRoot: repo, params, log, track: noTrack, grow: true })).added,
    0,
    'the source is all in',
  );
  assert.equal(
    (await ingest({ repoRoot: repo, params, log, track: noTrack })).added,
    0,
    'past the cap: nothing, nothing dropped',
  );

  const b0 = await readParquetTable(join(repo, RAW_DIR, 'batch-000000.parquet'));
  const b1 = await readParquetTable(join(repo, RAW_DIR, 'batch-000001.parquet'));
  const dates = [...Array(10).keys()]
    .map((i) => cellValue(b0.columns.date, i))
    .concat([...Array(10).keys()].map((i) => cellValue(b1.columns.date, i)));
  assert.deepEqual(
    dates,
    [...Array(20).keys()].map((h) => new Date(Date.UTC(2001, 0, 1, h)).toISOString().replace('T', ' ').slice(0, 16)),
  );
  // Lineage: the earliest record was the last line of the shuffled file (line 26).
  assert.equal(cellValue(b0.columns.__row, 0), 26);
});

test('a trailing partial batch is completed when the source grows', async () => {
  const repo = await tempRepo();
  const src = await writeSource(repo, 'flights.csv', flightsCsv(15));
  const params = await testParams({
    data: { source: src },
    ingest: { batch_size: 10, batches_per_run: 0, max_batches: 0 },
  });
  const log = quietLog();
  await ingest({ repoRoot: repo, params, log, track: noTrack });
  assert.deepEqual(
    (await readManifest(repo))!.batches.map((b) => b.rows),
    [10, 5],
  );
  let r = await ingest({ repoRoot: repo, params, log, track: noTrack });
  assert.equal(r.added, 0);
  await writeFile(src, flightsCsv(27));
  r = await ingest({ repoRoot: repo, params, log, track: noTrack });
  assert.deepEqual(
    (await readManifest(repo))!.batches.map((b) => b.rows),
    [10, 10, 7],
  );
  assert.equal(r.rows, 27);
});

test('a changed source or batch size is refused with what to do', async () => {
  const repo = await tempRepo();
  const src = await writeSource(repo, 'a.csv', flightsCsv(5));
  const params = await testParams({
    data: { source: src },
    ingest: { batch_size: 10, batches_per_run: 0, max_batches: 0 },
  });
  await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
  const other = await writeSource(repo, 'b.csv', flightsCsv(5));
  await assert.rejects(
    ingest({
      repoRoot: repo,
      params: { ...params, data: { ...params.data, source: other } },
      log: quietLog(),
      track: noTrack,
    }),
    /was filled from .*a\.csv.*move data\/ and data\.dvc aside/s,
  );
  await assert.rejects(
    ingest({
      repoRoot: repo,
      params: { ...params, ingest: { ...params.ingest, batch_size: 7 } },
      log: quietLog(),
      track: noTrack,
    }),
    /batches of 10 records but ingest\.batch_size is now 7/,
  );
});

test('the bundled flights data arrives in 15,000-record batches from 1 January 2001', async () => {
  const repo = await tempRepo();
  const params = await testParams({ ingest: { batch_size: 15000, batches_per_run: 1, max_batches: 1 } });
  const tracked: string[] = [];
  const r = await ingest({
    repoRoot: repo,
    params,
    log: quietLog(),
    track: (d) => {
      tracked.push(d);
      return Promise.resolve();
    },
  });
  assert.equal(r.rows, 15000);
  assert.equal(r.sourceRows, 3_000_000);
  assert.deepEqual(tracked, ['data']);
  const m = (await readManifest(repo))!;
  assert.equal(m.batches[0].first_time, '2001-01-01T00:01:00.000Z');
  assert.deepEqual(m.batches[0].range, [0, 15000]);
});

test('an empty CSV, a header-only CSV and a missing time column fail clearly', async () => {
  const repo = await tempRepo();
  const empty = await writeSource(repo, 'empty.csv', '');
  await assert.rejects(
    ingest({ repoRoot: repo, params: await testParams({ data: { source: empty } }), log: quietLog(), track: noTrack }),
    /is empty: no header line/,
  );
  const headerOnly = await writeSource(repo, 'header.csv', 'date,delay,distance,origin,destination\n');
  await assert.rejects(
    ingest({
      repoRoot: repo,
      params: await testParams({ data: { source: headerOnly } }),
      log: quietLog(),
      track: noTrack,
    }),
    /header\.csv has no records \(a header or schema only\).*point data\.source in params\.yaml at a file with rows/,
  );
  const noDate = await writeSource(repo, 'nodate.csv', 'delay,distance\n1,2\n');
  await assert.rejects(
    ingest({ repoRoot: repo, params: await testParams({ data: { source: noDate } }), log: quietLog(), track: noTrack }),
    /time column "date".*its columns are: delay, distance/,
  );
});

test('an https-style URL source is downloaded and ingested through the same code (loopback server)', async () => {
  const body = flightsCsv(12);
  let requests = 0;
  const server = await serve((req, res) => {
    requests++;
    if (req.url !== '/exports/flights.csv') return void res.writeHead(404).end();
    res
      .writeHead(200, { 'content-type': 'text/csv', etag: '"v1"', 'content-length': Buffer.byteLength(body) })
      .end(body);
  });
  try {
    const { port } = server;
    const repo = await tempRepo();
    const params = await testParams({
      data: { source: `http://127.0.0.1:${port}/exports/flights.csv` },
      ingest: { batch_size: 5, batches_per_run: 0, max_batches: 0 },
    });
    const r = await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
    assert.equal(r.rows, 12);
    assert.deepEqual(
      (await readManifest(repo))!.batches.map((b) => b.rows),
      [5, 5, 2],
    );
    assert.ok(requests >= 1);
    const missing = { ...params, data: { ...params.data, source: `http://127.0.0.1:${port}/nope.csv` } };
    await assert.rejects(
      ingest({ repoRoot: await tempRepo(), params: missing, log: quietLog(), track: noTrack }),
      /404/,
    );
  } finally {
    await server.close();
  }
});

test('ingestion is reproducible: two machines ingesting the same batches get the same data.dvc md5', async () => {
  const { hashDir } = await import('../../core/dvc/hash.ts');
  const params = await testParams({ ingest: { batch_size: 1000, batches_per_run: 2, max_batches: 2 } });
  const a = await tempRepo();
  const b = await tempRepo();
  await ingest({ repoRoot: a, params, log: quietLog(), track: noTrack });
  // b gets there in two runs of one batch each.
  await ingest({ repoRoot: b, params, log: quietLog(), track: noTrack, batchesPerRun: 1 });
  await ingest({ repoRoot: b, params, log: quietLog(), track: noTrack, batchesPerRun: 1 });
  const ha = await hashDir(join(a, RAW_DIR));
  const hb = await hashDir(join(b, RAW_DIR));
  assert.equal(ha.md5, hb.md5);
});

test('a local Parquet file out of time order is ingested in time order', async () => {
  const { writeParquetTable } = await import('../../core/data/parquet.ts');
  const { makeTable } = await import('../../core/data/table.ts');
  const repo = await tempRepo();
  const hours = [5, 1, 4, 0, 3, 2];
  await writeParquetTable(
    join(repo, 'flights.parquet'),
    makeTable({
      date: { type: 'timestamp', values: Float64Array.from(hours, (h) => Date.UTC(2001, 0, 1, h)) },
      delay: { type: 'number', values: Float64Array.from(hours, (h) => h * 10) },
      distance: { type: 'number', values: Float64Array.from(hours, () => 500) },
      origin: { type: 'string', codes: Int32Array.from(hours, () => 0), dict: ['ATL'] },
      destination: { type: 'string', codes: Int32Array.from(hours, () => 0), dict: ['ORD'] },
    }),
  );
  const params = await testParams({
    data: { source: 'flights.parquet' },
    ingest: { batch_size: 4, batches_per_run: 0, max_batches: 0 },
  });
  const r = await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
  assert.equal(r.rows, 6);
  const b0 = await readParquetTable(join(repo, RAW_DIR, 'batch-000000.parquet'));
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => cellValue(b0.columns.delay, i)),
    [0, 10, 20, 30],
  );
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => cellValue(b0.columns.__row, i)),
    [4, 2, 6, 5],
    'source record numbers are kept',
  );
});

test('a table without time (data.time_column __row): the manifest spans record numbers, not 1970 instants', async () => {
  const repo = await tempRepo();
  const src = await writeSource(repo, 'flights.csv', flightsCsv(12));
  const params = await testParams({
    data: { source: src, time_column: '__row' },
    ingest: { batch_size: 5, batches_per_run: 0, max_batches: 0 },
  });
  const r = await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
  const manifest = (await readManifest(repo))!;
  assert.deepEqual(
    manifest.batches.map((b) => [b.first_time, b.last_time]),
    [
      ['row 2', 'row 6'],
      ['row 7', 'row 11'],
      ['row 12', 'row 13'],
    ],
  );
  assert.equal(r.lastTime, 'row 13');
});
