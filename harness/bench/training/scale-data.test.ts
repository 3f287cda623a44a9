import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTable, cellValue } from '../../../core/data/table.ts';
import { readParquetTable, writeParquetTable } from '../../../core/data/parquet.ts';
import { tempDir } from '../../testing/lifecycle.ts';
import { linearFit, shiftTable, tileShiftMs, writeTiledTable } from './scale-data.ts';
import { summarize } from './scale.ts';

const DAY = 86_400_000;

test('the tile shift is the span rounded up to whole weeks, so copies never overlap and keep their weekday', () => {
  assert.equal(tileShiftMs(0, 0), 7 * DAY);
  assert.equal(tileShiftMs(0, 7 * DAY - 1), 7 * DAY);
  assert.equal(tileShiftMs(0, 7 * DAY), 14 * DAY);
  // The bundled flights: 2001-01-01 00:01 … 2001-07-01 00:00 → 26 weeks.
  assert.equal(tileShiftMs(Date.UTC(2001, 0, 1, 0, 1), Date.UTC(2001, 6, 1)), 182 * DAY);
  assert.throws(() => tileShiftMs(NaN, 1), /finite time range/);
});

test('shiftTable moves only the time column', () => {
  const t = makeTable({
    date: { type: 'timestamp', values: Float64Array.from([0, DAY]) },
    origin: { type: 'string', codes: Int32Array.from([0, 1]), dict: ['ATL', 'ORD'] },
  });
  const s = shiftTable(t, 'date', 14 * DAY);
  assert.deepEqual([...(s.columns.date as { values: Float64Array }).values], [14 * DAY, 15 * DAY]);
  assert.equal(s.columns.origin, t.columns.origin);
  assert.deepEqual([...(t.columns.date as { values: Float64Array }).values], [0, DAY], 'the input is not changed');
  assert.throws(() => shiftTable(t, 'origin', 1), /timestamp or number/);
});

test('a tiled table repeats the source in time order with whole-week shifts, cut at the asked size', async () => {
  const dir = await tempDir('scale-');
  const source = join(dir, 'src.parquet');
  const times = [Date.UTC(2001, 0, 1, 8), Date.UTC(2001, 0, 2, 9), Date.UTC(2001, 0, 9, 10)];
  await writeParquetTable(
    source,
    makeTable({
      date: { type: 'timestamp', values: Float64Array.from(times) },
      delay: { type: 'number', values: Float64Array.from([1, 2, 3]) },
    }),
    { rowGroupSize: 2 },
  );
  const out = join(dir, 'out.parquet');
  const got = await writeTiledTable({ source, out, rows: 7, timeColumn: 'date', rowGroupSize: 3 });
  assert.deepEqual(got, { rows: 7, copies: 3, shiftMs: 14 * DAY });
  const t = await readParquetTable(out);
  assert.equal(t.length, 7);
  const dates = Array.from({ length: 7 }, (_, i) => cellValue(t.columns.date, i) as number);
  const expected = [0, 1, 2, 0, 1, 2, 0].map((r, i) => times[r] + Math.floor(i / 3) * 14 * DAY);
  assert.deepEqual(dates, expected);
  for (let i = 1; i < dates.length; i++) assert.ok(dates[i] > dates[i - 1], 'time order');
  assert.deepEqual(
    dates.map((d) => new Date(d).getUTCDay()),
    [0, 1, 2, 0, 1, 2, 0].map((r) => new Date(times[r]).getUTCDay()),
  );
  assert.deepEqual(
    Array.from({ length: 7 }, (_, i) => cellValue(t.columns.delay, i)),
    [1, 2, 3, 1, 2, 3, 1],
  );
});

test('linearFit recovers a line, and one point or equal x gives a flat line through the mean', () => {
  const fit = linearFit([1, 2, 3, 4].map((x) => ({ x, y: 10 + 2.5 * x })));
  assert.ok(Math.abs(fit.slope - 2.5) < 1e-12 && Math.abs(fit.intercept - 10) < 1e-12);
  assert.deepEqual(linearFit([{ x: 3, y: 7 }]), { slope: 0, intercept: 7 });
  assert.throws(() => linearFit([]), /no points/);
});

test('summarize reports MB per million rows and calls a stage flat only within 20 % of the 3M run and under 1.5 GB', () => {
  const run = (stage: string, rows: number, mb: number) => ({
    stage,
    rows,
    seconds: rows / 1e6,
    peak_rss_mb: mb,
    load_before: 0,
  });
  const fit = summarize([
    { rows: 1e6, stages: [run('ingest', 1e6, 50), run('train', 1e6, 500)] },
    { rows: 3e6, stages: [run('ingest', 3e6, 100), run('train', 3e6, 1000)] },
    { rows: 5e6, stages: [run('ingest', 5e6, 110), run('train', 5e6, 1600)] },
  ]);
  assert.equal(fit.ingest.rss_reference_rows, 3e6, 'compared with the 3M run, not the smallest');
  assert.equal(fit.ingest.rss_growth_to_largest, 0.1);
  assert.equal(fit.ingest.flat, true);
  assert.equal(fit.train.flat, false);
  assert.equal(
    summarize([
      { rows: 3e6, stages: [run('train', 3e6, 1500)] },
      { rows: 5e6, stages: [run('train', 5e6, 1600)] },
    ]).train.flat,
    false,
    'within 20 % of the 3M run but above 1.5 GB',
  );
  assert.equal(fit.train.seconds_per_million_rows, 1);
  const steep = summarize([
    { rows: 1e6, stages: [run('prepare', 1e6, 400)] },
    { rows: 2e6, stages: [run('prepare', 2e6, 700)] },
  ]);
  assert.equal(steep.prepare.rss_mb_per_million_rows, 300);
  assert.equal(steep.prepare.rss_fixed_mb, 100);
  assert.equal(steep.prepare.rss_reference_rows, 1e6, 'no 3M run: the smallest');
  assert.equal(steep.prepare.flat, false);
});
