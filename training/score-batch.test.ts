import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate } from './stages/evaluate.ts';
import { register } from './stages/register.ts';
import { main, scoreBatch, parseShard, csvSink, parquetSink, type ScoredChunk } from './score-batch.ts';
import { flightsCsv, quietLog, writeSource } from '../harness/testing/training/fixtures.ts';
import { readParquetTable } from '../core/data/parquet.ts';
import { existsSync } from 'node:fs';
import { trainedRepo } from '../harness/testing/training/pipeline.ts';

/** One trained repository with a production model, shared by the tests (training is the slow part). */
let registered: Promise<{ repo: string }> | undefined;
function registeredRepo(): Promise<{ repo: string }> {
  registered ??= (async () => {
    const { repo, params } = await trainedRepo();
    const log = quietLog();
    await evaluate({ repoRoot: repo, params, log });
    await register({ repoRoot: repo, params, log, registryUrl: join(repo, 'registry') });
    await copyFile(new URL('../params.yaml', import.meta.url), join(repo, 'params.yaml'));
    return { repo };
  })();
  return registered;
}

test('batch scoring writes every row with the production version; bad rows carry reasons; shards partition the input', async () => {
  const { repo } = await registeredRepo();
  const log = quietLog();
  const lines = flightsCsv(25).split('\n');
  lines[3] = lines[3].replace(/,\d+,([A-Z]{3}),/, ',abc,$1,'); // distance not a number
  const input = await writeSource(repo, 'batch.csv', lines.join('\n'));
  const common = { input, stage: 'production', chunk: 10, repoRoot: repo, log, registryUrl: join(repo, 'registry') };
  const all = await scoreBatch({ ...common, output: 'out/all.csv', shard: { index: 0, count: 1 } });
  assert.equal(all.rows, 25);
  assert.equal(all.rejected, 1);
  assert.equal(all.version, 1);
  const out = (await readFile(join(repo, 'out/all.csv'), 'utf8')).trim().split('\n');
  assert.equal(out[0], 'source_row,probability,label,model_name,model_version,error');
  assert.equal(out.length, 26);
  const bad = out.find((l) => l.startsWith('4,'))!;
  assert.match(bad, /^4,,,flight-delay,1,distance: wrong_type$/);
  assert.ok(
    out
      .slice(1)
      .filter((l) => !l.startsWith('4,'))
      .every((l) => /^\d+,0\.\d+|^\d+,1,/.test(l) && l.endsWith(',flight-delay,1,')),
  );

  // --output *.parquet writes Parquet with the same columns and values as the CSV.
  const pq = await scoreBatch({ ...common, output: 'out/all.parquet', shard: { index: 0, count: 1 } });
  assert.deepEqual([pq.rows, pq.rejected], [25, 1]);
  const table = await readParquetTable(join(repo, 'out/all.parquet'));
  assert.deepEqual(Object.keys(table.columns), out[0].split(','));
  assert.equal(table.length, 25);
  const cell = (name: string, i: number): string => {
    const c = table.columns[name];
    if (c.type === 'string') return c.codes[i] < 0 ? '' : c.dict[c.codes[i]];
    return Number.isNaN(c.values[i]) ? '' : String(c.values[i]);
  };
  const parquetLines = Array.from({ length: table.length }, (_, i) =>
    Object.keys(table.columns)
      .map((name) => cell(name, i))
      .join(','),
  );
  assert.deepEqual(parquetLines, out.slice(1));

  const a = await scoreBatch({ ...common, output: 'out/a.csv', shard: { index: 0, count: 2 } });
  const b = await scoreBatch({ ...common, output: 'out/b.csv', shard: { index: 1, count: 2 } });
  assert.equal(a.rows + b.rows, 25);
  const rowsOf = async (f: string) =>
    (await readFile(join(repo, f), 'utf8'))
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]);
  assert.deepEqual(
    [...(await rowsOf('out/a.csv')), ...(await rowsOf('out/b.csv'))].sort(),
    (await rowsOf('out/all.csv')).sort(),
  );
  await assert.rejects(
    scoreBatch({ ...common, output: 'out/x.csv', stage: 'canary', shard: { index: 0, count: 1 } }),
    /canary/,
  );
});

test('a JSON array of records (what a JSON data.source is) scores like the same rows as CSV; source_row is the record number', async () => {
  const { repo } = await registeredRepo();
  const [header, ...lines] = flightsCsv(12).trim().split('\n');
  const names = header.split(',');
  const records = lines.map((l) =>
    Object.fromEntries(l.split(',').map((v, i) => [names[i], i === 0 || i > 2 ? v : Number(v)])),
  );
  records[4].distance = 'far';
  const common = {
    stage: 'production',
    chunk: 5,
    repoRoot: repo,
    log: quietLog(),
    registryUrl: join(repo, 'registry'),
  };
  const shard = { index: 0, count: 1 };
  const csvLines = [header, ...lines];
  csvLines[5] = csvLines[5].replace(/,\d+,([A-Z]{3}),/, ',far,$1,');
  const fromCsv = await scoreBatch({
    ...common,
    input: await writeSource(repo, 'rows.csv', csvLines.join('\n') + '\n'),
    output: 'out/rows-csv.csv',
    shard,
  });
  const fromJson = await scoreBatch({
    ...common,
    input: await writeSource(repo, 'rows.json', JSON.stringify(records)),
    output: 'out/rows-json.csv',
    shard,
  });
  assert.deepEqual([fromJson.rows, fromJson.scored, fromJson.rejected], [12, 11, 1]);
  assert.deepEqual([fromCsv.rows, fromCsv.scored, fromCsv.rejected], [12, 11, 1]);
  const body = async (f: string) => (await readFile(join(repo, f), 'utf8')).trim().split('\n');
  const [csvOut, jsonOut] = [await body('out/rows-csv.csv'), await body('out/rows-json.csv')];
  assert.equal(jsonOut[0], csvOut[0]);
  // CSV rows count the header as line 1; JSON records count from 1: otherwise the same cells.
  assert.deepEqual(
    jsonOut.slice(1).map((l) => l.replace(/^(\d+),/, (_, n: string) => `${Number(n) + 1},`)),
    csvOut.slice(1),
  );
  assert.match(jsonOut[5], /^5,,,flight-delay,1,distance: wrong_type$/);
});

test('shard parsing: flag, Indexed Job environment, and bad values', () => {
  assert.deepEqual(parseShard('1/4', {}), { index: 1, count: 4 });
  assert.deepEqual(parseShard(undefined, { JOB_COMPLETION_INDEX: '2', JOB_COMPLETIONS: '3' }), { index: 2, count: 3 });
  assert.deepEqual(parseShard(undefined, {}), { index: 0, count: 1 });
  assert.throws(() => parseShard('4/4', {}), /0 ≤ K < N/);
});

test('score:batch CLI: exit 1 when every row, or more than --max-reject-rate of them, was rejected; 2 on usage errors; 3 on an input with no rows', async () => {
  const { repo } = await registeredRepo();
  const run = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main([...argv, '--registry', join(repo, 'registry')], {
      cwd: repo,
      log: quietLog(),
      env: {},
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stderr += t),
    });
    return { code, stdout, stderr };
  };
  const lines = flightsCsv(12).split('\n');
  const allBad = lines.map((l, i) => (i === 0 || !l ? l : l.replace(/,\d+,([A-Z]{3}),/, ',abc,$1,')));
  const bad = await writeSource(repo, 'all-bad.csv', allBad.join('\n'));
  const r = await run('--input', bad, '--output', 'out/all-bad.csv');
  assert.equal(r.code, 1, r.stderr);
  assert.equal(JSON.parse(r.stdout).rejected, 12);
  assert.equal(
    r.stderr,
    'score:batch: all 12 input rows were rejected, none scored; the reasons are in out/all-bad.csv (its error column)\n',
  );
  assert.equal((await readFile(join(repo, 'out/all-bad.csv'), 'utf8')).trim().split('\n').length, 13);

  const someBad = [...lines];
  someBad[2] = allBad[2];
  const someBadCsv = await writeSource(repo, 'some-bad.csv', someBad.join('\n'));
  // 1 of 12 rejected (8.33 %): above params.yaml's validate.max_reject_rate (2 %), the default.
  const tooMany = await run('--input', someBadCsv, '--output', 'out/some.csv');
  assert.equal(tooMany.code, 1, tooMany.stderr);
  assert.deepEqual(
    [JSON.parse(tooMany.stdout).reject_rate, JSON.parse(tooMany.stdout).max_reject_rate],
    [0.083333, 0.02],
  );
  assert.match(
    tooMany.stderr,
    /^score:batch: 1 of 12 input rows were rejected \(8\.33%\), more than the allowed 2\.00%; the reasons are in out\/some\.csv .*raise --max-reject-rate/,
  );
  const some = await run('--input', someBadCsv, '--output', 'out/some.csv', '--max-reject-rate', '0.1');
  assert.equal(some.code, 0, some.stderr);
  assert.deepEqual([JSON.parse(some.stdout).scored, JSON.parse(some.stdout).rejected], [11, 1]);
  assert.equal((await run('--input', someBadCsv, '--output', 'x.csv', '--max-reject-rate', '2')).code, 2);

  // An output format it does not write, or an input that is not there: exit 2 saying what to pass, before any work.
  const json = await run('--input', bad, '--output', 'out/scores.json');
  assert.equal(json.code, 2);
  assert.match(
    json.stderr,
    /^score:batch: --output out\/scores\.json: the output is CSV or Parquet, chosen by its extension; end the path in \.csv or \.parquet\n/,
  );
  assert.equal(existsSync(join(repo, 'out/scores.json')), false);
  const missing = await run('--input', 'no-such-batch.csv', '--output', 'out/missing.csv');
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr.split('\n')[0],
    `score:batch: --input no-such-batch.csv: no such file (looked for ${join(repo, 'no-such-batch.csv')}); pass a CSV, JSON or Parquet file, gs://bucket/object, or vega-datasets:<file>`,
  );
  assert.doesNotMatch(missing.stderr, /ENOENT/);
  assert.equal(existsSync(join(repo, 'out/missing.csv')), false);

  // No rows at all: exit 3, not a green run; a shard beyond the input's last piece: exit 0.
  const headerOnly = await writeSource(repo, 'header-only.csv', lines[0] + '\n');
  const empty = await run('--input', headerOnly, '--output', 'out/empty.csv');
  assert.equal(empty.code, 3, empty.stderr);
  assert.match(empty.stderr, /^score:batch: .*header-only\.csv has no rows: nothing scored \(exit 3/);
  const lateShard = await run(
    '--input',
    someBadCsv,
    '--output',
    'out/late.csv',
    '--shard',
    '1/2',
    '--max-reject-rate',
    '0.1',
  );
  assert.equal(lateShard.code, 0, lateShard.stderr);
  assert.equal(JSON.parse(lateShard.stdout).rows, 0);

  const usage = await run('--input', bad);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^score:batch: --output is required\nusage: npm run score:batch -- /);
  assert.equal((await run('--input', bad, '--output', 'x.csv', '--chunk', '0')).code, 2);
  assert.equal((await run('--input', bad, '--output', 'x.csv', '--shard', '2/2')).code, 2);
});

test('the CSV and Parquet outputs hold the same cells for binary, multi-class and regression models', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'score-sinks-'));
  // Three rows: scored, rejected, scored (the second row's outputs are empty, its error set).
  const chunk = (k: number, predictions: number[]): ScoredChunk => ({
    length: 3,
    sourceRow: Float64Array.from([2, 3, 4]),
    at: Int32Array.from([0, -1, 1]),
    error: [null, 'distance: wrong_type', null],
    predictions: Float32Array.from(predictions),
    k,
  });
  const kinds = [
    {
      name: 'binary',
      columns: ['probability', 'label'],
      classes: undefined,
      classification: true,
      c: chunk(1, [0.25, 0.75]),
    },
    {
      name: 'multiclass',
      columns: ['label', 'probability_fog', 'probability_rain', 'probability_sun'],
      classes: ['fog', 'rain', 'sun'],
      classification: true,
      c: chunk(3, [0.5, 0.25, 0.25, 0.125, 0.125, 0.75]),
    },
    { name: 'regression', columns: ['value'], classes: undefined, classification: false, c: chunk(1, [12.5, -3]) },
  ];
  for (const kind of kinds) {
    const model = { name: 'm', version: 3, classes: kind.classes, classification: kind.classification, threshold: 0.5 };
    const csvPath = join(dir, `${kind.name}.csv`);
    const parquetPath = join(dir, `${kind.name}.parquet`);
    for (const [open, path] of [
      [csvSink, csvPath],
      [parquetSink, parquetPath],
    ] as const) {
      const sink = await open(path, kind.columns, model);
      await sink.write(kind.c);
      await sink.close();
    }
    const csv = (await readFile(csvPath, 'utf8')).trim().split('\n');
    assert.equal(csv[0], ['source_row', ...kind.columns, 'model_name', 'model_version', 'error'].join(','));
    const table = await readParquetTable(parquetPath);
    assert.deepEqual(Object.keys(table.columns), csv[0].split(','), kind.name);
    const cells = Array.from({ length: table.length }, (_, i) =>
      Object.values(table.columns)
        .map((c) =>
          c.type === 'string'
            ? c.codes[i] < 0
              ? ''
              : c.dict[c.codes[i]]
            : Number.isNaN(c.values[i])
              ? ''
              : String(c.values[i]),
        )
        .join(','),
    );
    assert.deepEqual(cells, csv.slice(1), kind.name);
  }
  assert.match(
    (await readFile(join(dir, 'multiclass.csv'), 'utf8')).split('\n')[3],
    /^4,sun,0\.125,0\.125,0\.75,m,3,$/,
  );
  await rm(dir, { recursive: true, force: true });
});

test('score:batch --output gs:// without credentials fails at once, before the registry, the model or the input are read', async () => {
  const home = await mkdtemp(join(tmpdir(), 'no-gcloud-'));
  const started = Date.now();
  try {
    await assert.rejects(
      scoreBatch({
        input: 'no-such-input.csv',
        output: 'gs://bkt/scores/all.csv',
        stage: 'production',
        chunk: 100,
        shard: { index: 0, count: 1 },
        repoRoot: home,
        log: quietLog(),
        credentials: { env: { HOME: home }, metadata: () => Promise.resolve(false) },
      }),
      /^Error: cannot write --output gs:\/\/bkt\/scores\/all\.csv: this machine has no Google Cloud credentials \(looked for .*\); authenticate with `gcloud auth application-default login`/,
    );
    assert.ok(Date.now() - started < 5000, `failed after ${Date.now() - started} ms, not after the client's retries`);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
