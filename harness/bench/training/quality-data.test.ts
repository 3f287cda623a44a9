import { test } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { referenceMatrix, runPythonLines, splitAtDate } from './quality-data.ts';
import { makeTable } from '../../../core/data/table.ts';

// Tuesday 2001-05-01 08:45 (test) and Monday 2001-01-01 14:00 (train).
const table = makeTable({
  date: { type: 'timestamp', values: Float64Array.from([Date.UTC(2001, 0, 1, 14), Date.UTC(2001, 4, 1, 8, 45)]) },
  distance: { type: 'number', values: Float64Array.from([700, 300]) },
  origin: { type: 'string', codes: Int32Array.from([0, 1]), dict: ['ATL', 'ORD'] },
  destination: { type: 'string', codes: Int32Array.from([1, 0]), dict: ['ATL', 'ORD'] },
  delay: { type: 'number', values: Float64Array.from([30, 5]) },
});
const split = splitAtDate((table.columns.date as { values: Float64Array }).values, Date.UTC(2001, 4, 1), 0);
const opts = {
  time: 'date',
  distance: 'distance',
  airports: ['origin', 'destination'],
  target: 'delay',
  positiveAbove: 15,
};

test('reference matrix: hour, day of week and month by default, or only the parts given, then distance, airports, target, split', () => {
  const all = referenceMatrix(table, split, opts);
  assert.deepEqual(all.columns, [
    'hour',
    'day_of_week',
    'month',
    'distance',
    'origin',
    'destination',
    'tuned.hour_minutes',
    'tuned.day_of_week',
    'target',
    'split',
  ]);
  assert.deepEqual(all.numeric, ['hour', 'day_of_week', 'month', 'distance']);
  // Row 2: 08 h, Tuesday (2), May (4), 300 mi, ORD and ATL never seen as origin / destination in training (the shared "other" code 249), 08:45 → 8.75, Tuesday, on time, test.
  assert.deepEqual(Array.from(all.matrix.slice(10, 20)), [8, 2, 4, 300, 249, 249, 8.75, 2, 0, 2]);
  assert.deepEqual(all.tunedNumeric, ['tuned.hour_minutes', 'tuned.day_of_week', 'distance']);
  assert.deepEqual(all.airportCodes, { origin: { seen: 1, pooled: 0 }, destination: { seen: 1, pooled: 0 } });
  const hourOnly = referenceMatrix(table, split, { ...opts, parts: ['hour'] });
  assert.deepEqual(hourOnly.columns, [
    'hour',
    'distance',
    'origin',
    'destination',
    'tuned.hour_minutes',
    'tuned.day_of_week',
    'target',
    'split',
  ]);
  assert.deepEqual(hourOnly.numeric, ['hour', 'distance']);
  assert.deepEqual(Array.from(hourOnly.matrix.slice(0, 8)), [14, 700, 0, 0, 14, 1, 1, 0]);
});

test('runPythonLines: JSON lines on success; on failure the script’s own error line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pylines-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ok = join(dir, 'ok.py');
  const bad = join(dir, 'bad.py');
  await writeFile(ok, 'import json\nprint(json.dumps({"a": 1}))\nprint()\nprint(json.dumps({"b": 2}))\n');
  await writeFile(bad, 'import json, sys\nprint(json.dumps({"error": "no sklearn here"}))\nsys.exit(3)\n');
  assert.deepEqual(await runPythonLines('python3', ok, []), [{ a: 1 }, { b: 2 }]);
  await assert.rejects(runPythonLines('python3', bad, []), /exit 3\): no sklearn here/);
});
