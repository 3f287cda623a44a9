import { test } from 'node:test';
import { datetimeSpec } from '../harness/testing/core/datetime-spec.ts';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchDrift, currentWindows } from './drift.ts';
import { datetimePart } from '../core/model/features.ts';
import { histogram, profileTable } from '../core/model/profile.ts';
import type { Table } from '../core/data/table.ts';
import { main } from './drift-cli.ts';
import { predictionProfiles, predictionWindows, type PredictionDrift } from './drift-predictions.ts';
import { flightsCsv, quietLog, tempRepo, testParams, writeSource } from '../harness/testing/training/fixtures.ts';
import { makeBundle, sampleRecords, WEATHER } from '../harness/testing/api/support.ts';

test('batch drift: the same data does not drift; longer flights from one airport do; JSON, markdown and PNGs are written', async () => {
  const repo = await tempRepo();
  const params = await testParams();
  const reference = await writeSource(repo, 'ref.csv', flightsCsv(3000));
  const same = await writeSource(repo, 'same.csv', flightsCsv(3000));
  const lines = flightsCsv(3000).split('\n');
  const shifted = lines.map((l, i) => {
    if (i === 0 || !l) return l;
    const f = l.split(',');
    return [f[0], f[1], String(Number(f[2]) + 2500), 'ATL', f[4]].join(',');
  });
  const changed = await writeSource(repo, 'changed.csv', shifted.join('\n'));

  const none = await batchDrift({ reference, current: same, out: join(repo, 'r1'), params, log: quietLog() });
  assert.equal(none.dataset_drift, false);
  assert.deepEqual(none.drifted_features, []);

  const out = join(repo, 'r2');
  const drift = await batchDrift({ reference, current: changed, out, params, log: quietLog() });
  assert.ok(drift.drifted_features.includes('distance'));
  assert.ok(drift.drifted_features.includes('origin'));
  assert.ok(!drift.drifted_features.includes('destination'));
  const json = JSON.parse(await readFile(join(out, 'drift.json'), 'utf8'));
  assert.equal(json.rows, 3000);
  const md = await readFile(join(out, 'drift.md'), 'utf8');
  assert.match(md, /\| distance \| wasserstein \| [0-9.]+ \| — \| 0\.1 \| ⚠️ yes \|/);
  const files = await readdir(out);
  assert.ok(files.includes('drift-distance.png') && files.includes('drift-origin.png'));
});

test('batch drift with a data reference too short for a date part says which inputs it leaves out, and why', async () => {
  const repo = await tempRepo();
  const params = await testParams();
  // 20 hours of hourly flights: not even the hour of day repeats (min_cycles).
  const reference = await writeSource(repo, 'short.csv', flightsCsv(20));
  const current = await writeSource(repo, 'current.csv', flightsCsv(200));
  const out = join(repo, 'short');
  const result = await batchDrift({ reference, current, out, params, log: quietLog() });
  assert.ok(result.left_out && result.left_out.length > 0, JSON.stringify(result));
  for (const d of result.left_out) {
    assert.match(d.feature, /^date/);
    assert.ok(!result.drifted_features.includes(d.feature));
  }
  const json = JSON.parse(await readFile(join(out, 'drift.json'), 'utf8'));
  assert.deepEqual(json.left_out, result.left_out);
  const md = await readFile(join(out, 'drift.md'), 'utf8');
  assert.match(md, new RegExp(`Not judged, left out of the reference's profile: ${result.left_out[0].feature} \\(`));
  assert.ok(result.left_out.some((d) => d.feature === 'date.hour'));
  // Eight days profile the hour, which is then judged.
  const long = await batchDrift({ reference: current, current, out: join(repo, 'long'), params, log: quietLog() });
  assert.ok(!(long.left_out ?? []).some((d) => d.feature === 'date.hour'), JSON.stringify(long.left_out));
});

/** The model fixture's own training records as a flights CSV (the columns params.yaml validates). */
function recordsCsv(records: { date: string; distance: number; origin: string }[]): string {
  const lines = records.map((r) => `${r.date.slice(0, 16).replace('T', ' ')},0,${r.distance},${r.origin},ORD`);
  return ['date,delay,distance,origin,destination', ...lines].join('\n') + '\n';
}

test('batch drift against a model bundle: the training rows give no prediction drift, longer flights do; a data reference says why there is none', async () => {
  const repo = await tempRepo();
  const params = await testParams();
  const bundle = join(repo, 'bundle');
  await makeBundle(bundle, 7);
  const training = sampleRecords(200);
  const same = await writeSource(repo, 'same.csv', recordsCsv(training));
  const longer = await writeSource(
    repo,
    'longer.csv',
    recordsCsv(training.map((r) => ({ ...r, distance: r.distance + 3000 }))),
  );

  const none = await batchDrift({ reference: bundle, current: same, out: join(repo, 'b1'), params, log: quietLog() });
  assert.equal(none.dataset_drift, false);
  assert.ok(!('skipped' in none.predictions && none.predictions.skipped), JSON.stringify(none.predictions));
  const calm = none.predictions as PredictionDrift;
  assert.deepEqual(Object.keys(calm.tracks), ['prediction']);
  assert.equal(calm.tracks.prediction.status, 'ok');
  assert.equal(calm.drifted, false);

  const out = join(repo, 'b2');
  const moved = await batchDrift({ reference: bundle, current: longer, out, params, log: quietLog() });
  assert.ok(moved.drifted_features.includes('distance'));
  const p = moved.predictions as PredictionDrift;
  assert.equal(p.drifted, true, JSON.stringify(p.tracks));
  assert.deepEqual(p.drifted_tracks, ['prediction']);
  assert.ok(!moved.drifted_features.includes('prediction'), 'predictions stay out of the inputs’ drift share');
  const json = JSON.parse(await readFile(join(out, 'drift.json'), 'utf8'));
  assert.equal(json.predictions.drifted, true);
  const md = await readFile(join(out, 'drift.md'), 'utf8');
  assert.match(
    md,
    /## Predictions[\s\S]*\*\*prediction drift \(prediction\)\*\*\.\n\n\| output \|[\s\S]*\| prediction \| ks \| [0-9.]+ \|/,
  );
  assert.ok((await readdir(out)).includes('drift-prediction.png'));

  const fromData = await batchDrift({
    reference: same,
    current: longer,
    out: join(repo, 'b3'),
    params,
    log: quietLog(),
  });
  assert.match((fromData.predictions as { skipped: string }).skipped, /data file, not a model bundle/);
  assert.match(
    await readFile(join(repo, 'b3', 'drift.md'), 'utf8'),
    /Prediction drift not computed: the reference is a data file/,
  );
});

test('batch drift reads a JSON array of records (what a JSON data.source is) like the same rows as CSV', async () => {
  const repo = await tempRepo();
  const params = await testParams();
  const bundle = join(repo, 'bundle');
  await makeBundle(bundle, 7);
  const longer = sampleRecords(200).map((r) => ({ ...r, distance: r.distance + 3000 }));
  const asJson = longer.map((r) => ({
    date: r.date.slice(0, 16).replace('T', ' '),
    delay: 0,
    distance: r.distance,
    origin: r.origin,
    destination: 'ORD',
  }));
  const run = async (file: string, content: string) =>
    batchDrift({
      reference: bundle,
      current: await writeSource(repo, file, content),
      out: join(repo, file.replace('.', '-')),
      params,
      log: quietLog(),
    });
  const csv = await run('longer.csv', recordsCsv(longer));
  const json = await run('longer.json', JSON.stringify(asJson));
  assert.ok(json.drifted_features.includes('distance'), JSON.stringify(json.drifted_features));
  assert.deepEqual(json.drifted_features, csv.drifted_features);
  assert.equal(json.drift_share, csv.drift_share);
  assert.equal((json.predictions as PredictionDrift).drifted, (csv.predictions as PredictionDrift).drifted);
  assert.equal(JSON.parse(await readFile(join(repo, 'longer-json', 'drift.json'), 'utf8')).rows, 200);
});

/** The same records without the label column, as a new production batch arrives. */
function unlabelledCsv(records: { date: string; distance: number; origin: string }[]): string {
  const lines = records.map((r) => `${r.date.slice(0, 16).replace('T', ' ')},${r.distance},${r.origin},ORD`);
  return ['date,distance,origin,destination', ...lines].join('\n') + '\n';
}

test('batch drift without a label column: the inputs and the predictions are judged as with labels; a label present is still validated', async () => {
  const repo = await tempRepo();
  const params = await testParams();
  const bundle = join(repo, 'bundle');
  await makeBundle(bundle, 7);
  const training = sampleRecords(200);
  const longer = training.map((r) => ({ ...r, distance: r.distance + 3000 }));
  const labelled = await writeSource(repo, 'labelled.csv', recordsCsv(longer));
  const unlabelled = await writeSource(repo, 'unlabelled.csv', unlabelledCsv(longer));

  const withLabels = await batchDrift({
    reference: bundle,
    current: labelled,
    out: join(repo, 'u1'),
    params,
    log: quietLog(),
  });
  const out = join(repo, 'u2');
  const without = await batchDrift({ reference: bundle, current: unlabelled, out, params, log: quietLog() });
  assert.deepEqual(without.drifted_features, withLabels.drifted_features);
  assert.ok(without.drifted_features.includes('distance'));
  assert.deepEqual(Object.keys(without.features), Object.keys(withLabels.features));
  assert.ok(!('skipped' in without.predictions && without.predictions.skipped), JSON.stringify(without.predictions));
  const p = without.predictions as PredictionDrift;
  assert.equal(p.drifted, (withLabels.predictions as PredictionDrift).drifted);
  assert.equal(JSON.parse(await readFile(join(out, 'drift.json'), 'utf8')).rows, 200);

  // A data file as the reference may lack labels too.
  const fromData = await batchDrift({
    reference: await writeSource(repo, 'ref.csv', unlabelledCsv(training)),
    current: unlabelled,
    out: join(repo, 'u3'),
    params,
    log: quietLog(),
  });
  assert.ok(fromData.drifted_features.includes('distance'));

  // A multi-class task fits its classes from the labels; an unlabelled data reference needs none.
  const { delay: _delay, ...inputsOnly } = params.validate.schema;
  const multiclass = await testParams({
    task: { type: 'classification', target: 'weather', classes: 'auto', positive_above: undefined },
    validate: { schema: { ...inputsOnly, weather: { type: 'category', required: true } } },
  });
  const unlabelledReference = await batchDrift({
    reference: join(repo, 'ref.csv'),
    current: unlabelled,
    out: join(repo, 'u5'),
    params: multiclass,
    log: quietLog(),
  });
  assert.deepEqual(unlabelledReference.drifted_features, fromData.drifted_features);

  // A label column that is there is checked as before: an out-of-range delay drops its row.
  const bad = recordsCsv(longer).replace(/^([^,\n]+),0,/m, '$1,99999,');
  const checked = await batchDrift({
    reference: bundle,
    current: await writeSource(repo, 'bad.csv', bad),
    out: join(repo, 'u4'),
    params,
    log: quietLog(),
  });
  assert.equal(
    JSON.parse(await readFile(join(repo, 'u4', 'drift.json'), 'utf8')).rows,
    199,
    JSON.stringify(checked.drift_share),
  );
});

test('batch drift against a multi-class bundle: one prediction track per class, on that class’s probability', async () => {
  const repo = await tempRepo();
  const params = await testParams();
  const bundle = join(repo, 'bundle');
  await makeBundle(bundle, 3, { multiclass: true });
  const training = sampleRecords(200);
  const same = await writeSource(repo, 'same.csv', recordsCsv(training));
  const result = await batchDrift({ reference: bundle, current: same, out: join(repo, 'm'), params, log: quietLog() });
  const p = result.predictions as PredictionDrift;
  assert.deepEqual(
    Object.keys(p.tracks),
    WEATHER.map((w) => `prediction.${w}`),
  );
  assert.ok(
    Object.values(p.tracks).every((t) => t.status === 'ok' && !t.drifted),
    JSON.stringify(p.tracks),
  );
});

test('prediction windows take each class’s column of the k-per-row outputs', () => {
  const prof = {
    kind: 'numeric' as const,
    count: 4,
    missing: 0,
    mean: 0.5,
    std: 0.3,
    min: 0,
    max: 1,
    quantiles: [],
    histogram: { edges: [0, 0.5, 1], counts: [2, 2] },
  };
  const classes = ['a', 'b'];
  // Rows: (0.1, 0.9), (0.2, 0.8), (0.3, 0.7): class a all low, class b all high.
  const outputs = Float32Array.from([0.1, 0.9, 0.2, 0.8, 0.3, 0.7]);
  const profiles = predictionProfiles(
    { version: 1, rows: 4, features: {}, prediction_classes: { a: prof, b: prof } },
    classes,
  );
  const w = predictionWindows(profiles, outputs, classes);
  assert.deepEqual(Array.from(w['prediction.a'].counts), [3, 0]);
  assert.deepEqual(Array.from(w['prediction.b'].counts), [0, 3]);
});

test('drift CLI: an unlabelled batch is compared (exit 0), one under drift.min_window is not judged (exit 3); a --current or --reference that is not there is a usage error naming it', async () => {
  const repo = await tempRepo();
  const bundle = join(repo, 'bundle');
  await makeBundle(bundle, 7);
  const batch = await writeSource(repo, 'batch.csv', unlabelledCsv(sampleRecords(200)));
  const run = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main([...argv, '--params', fileURLToPath(new URL('../params.yaml', import.meta.url))], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
    });
    return { code, stdout, stderr };
  };
  const ok = await run('--reference', bundle, '--current', batch, '--out', join(repo, 'report'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(Object.keys(JSON.parse(ok.stdout)), [
    'dataset_drift',
    'drift_share',
    'drifted_features',
    'prediction_drift',
    'drifted_predictions',
  ]);

  // params.yaml describing another dataset (the README's weather example) does not matter against
  // a bundle: the batch is read with the model's own schema.
  const weatherParams = fileURLToPath(new URL('../docs/examples/seattle-weather/params.yaml', import.meta.url));
  let otherErr = '';
  const other = await main(
    ['--reference', bundle, '--current', batch, '--out', join(repo, 'other'), '--params', weatherParams],
    {
      stdout: () => {},
      stderr: (t) => void (otherErr += t),
    },
  );
  assert.equal(other, 0, otherErr);
  // Fewer rows than drift.min_window: nothing judged, said so, exit 3; not "no drift".
  const small = await writeSource(repo, 'small.csv', unlabelledCsv(sampleRecords(40)));
  const few = await run('--reference', bundle, '--current', small, '--out', join(repo, 'small-report'));
  assert.equal(few.code, 3, few.stderr);
  const verdict = JSON.parse(few.stdout);
  assert.equal(verdict.dataset_drift, null);
  assert.match(verdict.not_judged, /^40 values in the current window, fewer than drift\.min_window = 100$/);
  assert.match(await readFile(join(repo, 'small-report', 'drift.md'), 'utf8'), /40 current rows\. \*\*Not judged\*\*/);

  const missing = await run('--reference', bundle, '--current', join(repo, 'nope.csv'));
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr.split('\n')[0],
    `drift: --current ${join(repo, 'nope.csv')}: no such file; pass a CSV/JSON/Parquet file`,
  );
  const noBundle = await run('--reference', join(repo, 'artifacts/model'), '--current', batch);
  assert.equal(noBundle.code, 2);
  assert.match(
    noBundle.stderr,
    /^drift: --reference \S+artifacts\/model: no such model bundle directory or file; pass a model bundle directory/,
  );
});

test('batch drift bins a minute of day as numbers: the window holds the histogram of each timestamp’s minute', () => {
  const stamps = (n: number, from: number) =>
    Float64Array.from({ length: n }, (_, i) =>
      i % 17 === 0 ? NaN : Date.UTC(2001, 0, 1 + (i % 9)) + ((from + i * 37) % 1440) * 60_000,
    );
  const spec = datetimeSpec(['day_of_week', 'minute_of_day']);
  const reference = profileTable(
    { length: 3000, columns: { date: { type: 'timestamp', values: stamps(3000, 0) } } },
    spec,
    {
      bins: 20,
      topCategories: 50,
    },
  );
  const prof = reference.features['date.minute_of_day'];
  assert.ok(prof.kind === 'numeric');
  assert.equal(reference.features['date.day_of_week'].kind, 'categorical');
  const current: Table = { length: 500, columns: { date: { type: 'timestamp', values: stamps(500, 600) } } };
  const windows = currentWindows(reference, current);
  const minutes = Array.from(current.columns.date.type === 'timestamp' ? current.columns.date.values : [], (v) =>
    Number.isFinite(v) ? datetimePart(v, 'minute_of_day') : NaN,
  );
  assert.deepEqual(windows.numeric['date.minute_of_day'].counts, histogram(minutes, prof.histogram.edges));
  assert.equal(windows.numeric['date.minute_of_day'].missing, 30);
});
