import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ParamsError } from '../core/schemas/params.ts';
import { memoryLogger } from '../core/platform/log.ts';
import { noTrack, quietLog, tempRepo, testParams } from '../harness/testing/training/fixtures.ts';
import { labelProblems, preflight, preflightProblems } from './preflight.ts';
import { ingest } from './stages/ingest.ts';
import { main as pipelineMain } from './pipeline/cli.ts';

const WEATHER = 'vega-datasets:data/seattle-weather.csv';

/** The repository's params.yaml with whole sections replaced, as a user editing it would. */
async function paramsText(sections: Record<string, unknown>): Promise<string> {
  const base = parse(await readFile(new URL('../params.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
  return stringify({ ...base, ...sections });
}

/** A weather setup with the mistakes a new user makes, one of each kind. */
const mistakes = {
  data: { source: WEATHER, format: 'auto', time_column: 'date' },
  validate: {
    // max_reject_rate forgotten
    schema: {
      date: { type: 'timestamp', required: true },
      temp_max: { type: 'number', required: true },
      wind: { type: 'number', required: true },
      humidity: { type: 'number', required: true }, // not in the source
    },
  },
  task: { type: 'classification', target: 'temp_max' }, // positive_above forgotten
  features: {
    date: { kind: 'datetime', parts: ['month'] },
    wind: { kind: 'categorical' }, // a number column
  },
  split: { method: 'time', validation_fraction: 0.15, test_fraction: 0.15, hash_key: ['origin'], seed: 1 },
  train: { ...(await testParams()).train, primary_metric: 'rmse' }, // a regression metric
};

test('every problem at once, each with its key, its value and the fix; hash_key is ignored by a time split', async () => {
  const repo = await tempRepo();
  await writeFile(join(repo, 'params.yaml'), await paramsText(mistakes));
  const { problems } = await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() });
  const byKey = Object.fromEntries(problems.map((p) => [p.key, p]));
  assert.deepEqual(Object.keys(byKey).sort(), [
    'features.wind.kind',
    'task.positive_above',
    'train.primary_metric',
    'validate.max_reject_rate',
    'validate.schema.humidity',
  ]);
  assert.equal(byKey['train.primary_metric'].value, 'rmse');
  assert.match(
    byKey['train.primary_metric'].message,
    /does not fit a classification task; use one of roc_auc, pr_auc, log_loss/,
  );
  assert.match(
    byKey['task.positive_above'].message,
    /classification needs exactly one of: positive_above: <number> \(label 1 when temp_max is above it.*positive_class: <label>.*classes: auto/,
  );
  assert.match(byKey['features.wind.kind'].message, /use kind: numeric/);
  assert.match(
    byKey['validate.schema.humidity'].message,
    /the source .*seattle-weather\.csv has no column "humidity" \(its columns: date, precipitation, temp_max, temp_min, wind, weather\)/,
  );
  assert.match(byKey['validate.max_reject_rate'].message, /required \(number\); add it/);

  // The error the commands print lists them all.
  const err = await preflight({ repoRoot: repo, against: 'source', log: quietLog() }).catch((e: unknown) => e);
  assert.ok(err instanceof ParamsError);
  assert.match(err.message, /^params\.yaml has 5 problem\(s\); fix them all, then run again:\n/);
  assert.match(err.message, /\n {2}- train\.primary_metric = "rmse": does not fit/);

  // split.hash_key is checked when the split uses it.
  await writeFile(
    join(repo, 'params.yaml'),
    await paramsText({ ...mistakes, split: { ...mistakes.split, method: 'hash' } }),
  );
  const hashed = await preflightProblems({ repoRoot: repo, against: 'none', log: quietLog() });
  const key = hashed.problems.find((p) => p.key === 'split.hash_key');
  assert.ok(key);
  assert.deepEqual(key.value, ['origin']);
  assert.match(key.message, /"origin" is not a column of validate\.schema \(date, temp_max, wind, humidity\)/);
});

test('a target the source holds as text, or does not hold at all, is refused with the fix', async () => {
  const repo = await tempRepo();
  const schema = {
    date: { type: 'timestamp', required: true },
    weather: { type: 'number', required: true },
    wind: { type: 'number', required: true },
  };
  const setup = {
    data: { source: WEATHER, format: 'auto', time_column: 'date' },
    validate: { max_reject_rate: 0.02, schema },
    task: { type: 'regression', target: 'weather' },
    features: { wind: { kind: 'numeric' } },
    train: { ...(await testParams()).train, primary_metric: 'mae' },
  };
  await writeFile(join(repo, 'params.yaml'), await paramsText(setup));
  const text = await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() });
  assert.equal(text.problems.length, 1, JSON.stringify(text.problems));
  assert.equal(text.problems[0].key, 'task.target');
  assert.match(
    text.problems[0].message,
    /regression needs a numeric target, but "weather" in the source .* holds text \("drizzle", "rain"/,
  );

  await writeFile(
    join(repo, 'params.yaml'),
    await paramsText({ ...setup, task: { type: 'classification', target: 'weather', positive_above: 0 } }),
  );
  const cls = await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() });
  assert.match(
    cls.problems.find((p) => p.key === 'task.target')!.message,
    /task\.positive_above needs a numeric target.*holds text.*set task\.positive_class: <the positive label> \(two classes\) or task\.classes: auto/,
  );

  // Labels by name: positive_class must be a label of the data (here it differs in case only), classes: auto takes text.
  const labelled = (task: object) =>
    paramsText({
      ...setup,
      validate: { ...setup.validate, schema: { ...schema, weather: { type: 'category' } } },
      task: { type: 'classification', target: 'weather', ...task },
      train: { ...setup.train, primary_metric: 'log_loss' },
    });
  await writeFile(join(repo, 'params.yaml'), await labelled({ positive_class: 'Rain' }));
  const wrongCase = await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() });
  assert.deepEqual(
    wrongCase.problems.map((p) => [p.key, p.value]),
    [['task.positive_class', 'Rain']],
  );
  assert.match(
    wrongCase.problems[0].message,
    /never holds "Rain" in its first \d+ records \(labels seen: .*"rain".*\); set it to "rain"/,
  );
  for (const ok of [{ positive_class: 'rain' }, { classes: 'auto' }]) {
    await writeFile(join(repo, 'params.yaml'), await labelled(ok));
    assert.deepEqual((await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() })).problems, []);
  }
  await writeFile(join(repo, 'params.yaml'), await labelled({ positive_class: 'rain', classes: 'auto' }));
  const both = await preflightProblems({ repoRoot: repo, against: 'none', log: quietLog() });
  assert.deepEqual(
    both.problems.map((p) => p.key),
    ['task.positive_class/classes'],
  );
  assert.match(both.problems[0].message, /exactly one of.*keep one/);

  // Declared as category: refused from params alone, before the source is read.
  await writeFile(
    join(repo, 'params.yaml'),
    await paramsText({
      ...setup,
      validate: { ...setup.validate, schema: { ...schema, weather: { type: 'category' } } },
    }),
  );
  const declared = await preflightProblems({ repoRoot: repo, against: 'none', log: quietLog() });
  assert.match(
    declared.problems[0].message,
    /a regression target must be numeric, but validate\.schema\.weather\.type is category/,
  );

  await writeFile(
    join(repo, 'params.yaml'),
    await paramsText({
      ...setup,
      validate: { ...setup.validate, schema: { ...schema, weather: { type: 'category' }, price: { type: 'number' } } },
      task: { type: 'regression', target: 'price' },
    }),
  );
  const missing = await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() });
  assert.deepEqual(
    missing.problems.map((p) => p.key),
    ['task.target'],
  );
  assert.match(missing.problems[0].message, /has no column "price" \(its columns: date, precipitation/);
});

test('npm run pipeline checks its stage names, then params.yaml and the raw store, before any stage runs', async () => {
  const repo = await tempRepo();
  const params = await testParams({
    data: { source: WEATHER, time_column: 'date' },
    ingest: { batch_size: 500, batches_per_run: 0, max_batches: 1 },
  });
  // A raw store of the weather data, then params still describing flights.
  await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
  await writeFile(join(repo, 'params.yaml'), await paramsText({ data: params.data }));
  await writeFile(
    join(repo, 'dvc.yaml'),
    "stages:\n  touch:\n    cmd: node -e \"require('fs').writeFileSync('ran','')\"\n    outs:\n    - ran\n",
  );
  let err = '';
  const io = { log: memoryLogger(), cwd: repo, write: () => {}, stderr: (t: string) => void (err += t) };
  // A stage dvc.yaml lacks is a usage error (exit 2), before the params are looked at.
  assert.equal(await pipelineMain(['tuch'], io), 2);
  assert.match(err, /^pipeline: unknown stage 'tuch'; dvc\.yaml defines: touch\n/);
  err = '';
  assert.equal(await pipelineMain([], io), 1);
  assert.equal(existsSync(join(repo, 'ran')), false, 'no stage ran');
  assert.match(err, /^pipeline: params\.yaml has \d+ problem\(s\)/);
  assert.match(
    err,
    /task\.target = "delay": the raw store data\/ \(from vega-datasets:data\/seattle-weather\.csv\) has no column "delay"/,
  );
  assert.match(err, /validate\.schema\.origin = .*has no column "origin"/);

  // Another source than the raw store holds: move the store aside first.
  await writeFile(join(repo, 'params.yaml'), await paramsText({}));
  err = '';
  assert.equal(await pipelineMain([], io), 1);
  assert.match(
    err,
    /data\.source = "vega-datasets:data\/flights-3m\.parquet": the raw store data\/ holds records of vega-datasets:data\/seattle-weather\.csv/,
  );

  // Without a params.yaml the dvc.yaml is not this product's pipeline: it just runs.
  await rm(join(repo, 'params.yaml'));
  assert.equal(await pipelineMain([], io), 0);
  assert.equal(existsSync(join(repo, 'ran')), true);
});

test('a section the schema lets go but a pipeline stage reads (drift, train, register) is named before any stage runs', async () => {
  const repo = await tempRepo();
  const text = await paramsText({});
  const raw = parse(text) as Record<string, unknown>;
  delete raw.drift;
  delete raw.register;
  await writeFile(join(repo, 'params.yaml'), stringify(raw));
  const { problems } = await preflightProblems({ repoRoot: repo, against: 'none', log: quietLog() });
  assert.deepEqual(
    problems.map((p) => p.key),
    ['register.model_name', 'register', 'drift'],
  );
  assert.match(
    problems[1].message,
    /the pipeline stage register reads it \(dvc\.yaml params\), so it must be in params\.yaml/,
  );
  assert.match(problems[0].message, /the pipeline stage train reads it/);
});

test('fewer than three labels in the first records refuse classes: auto only when those records are the whole source', () => {
  const task = { type: 'classification', classes: 'auto' };
  const sorted = [...Array<string>(120).fill('Adelie'), ...Array<string>(80).fill('Chinstrap')];
  assert.deepEqual(labelProblems(task, 'Species', sorted, 'the source s.json', false), []);
  const whole = labelProblems(task, 'Species', sorted, 'the source s.json', true);
  assert.equal(whole.length, 1);
  assert.match(whole[0].message, /shows 2 label\(s\) in its first 200 records.*task\.positive_class/);
});

test('a source in another format than it is read as, or separated by semicolons, is one problem naming the fix', async () => {
  const repo = await tempRepo();
  const weather = await readFile(
    new URL('../node_modules/vega-datasets/data/seattle-weather.csv', import.meta.url),
    'utf8',
  );
  const flights = new URL('../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url);
  await writeFile(join(repo, 'semicolons.csv'), weather.replaceAll(',', ';'));
  await writeFile(join(repo, 'flights.csv'), await readFile(flights));
  await writeFile(join(repo, 'weather.parquet'), weather);
  const problemsOf = async (source: string, format = 'auto') => {
    await writeFile(join(repo, 'params.yaml'), await paramsText({ data: { source, format, time_column: 'date' } }));
    return (await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() })).problems.filter((p) =>
      p.key.startsWith('data.'),
    );
  };
  const semi = await problemsOf('semicolons.csv');
  assert.deepEqual(
    semi.map((p) => p.key),
    ['data.source'],
  );
  assert.match(semi[0].message, /one column "date;precipitation;.*separated by ";".*save the file with commas/);
  const parquet = await problemsOf('flights.csv');
  assert.deepEqual(
    parquet.map((p) => p.key),
    ['data.source'],
  );
  assert.match(
    parquet[0].message,
    /is a Parquet file .*read as CSV \(by its extension \.csv\); set data\.format: parquet/,
  );
  const declared = await problemsOf('flights.csv', 'csv');
  assert.deepEqual(
    declared.map((p) => [p.key, /read as CSV \(data\.format: csv\)/.test(p.message)]),
    [['data.format', true]],
  );
  const text = await problemsOf('weather.parquet');
  assert.match(text[0]?.message ?? '', /is not a Parquet file .*set data\.format to csv or json/);
});

test('a column whose first values all fail their type (day-first dates, decimal commas) is named before ingesting', async () => {
  const repo = await tempRepo();
  const weather = await readFile(
    new URL('../node_modules/vega-datasets/data/seattle-weather.csv', import.meta.url),
    'utf8',
  );
  const lines = weather.trim().split('\n');
  const rewrite = (f: (cells: string[]) => string[]) =>
    [lines[0], ...lines.slice(1).map((l) => f(l.split(',')).join(','))].join('\n') + '\n';
  await writeFile(
    join(repo, 'day-first.csv'),
    rewrite(([d, ...rest]) => [d.split('-').reverse().join('/'), ...rest]),
  );
  await writeFile(
    join(repo, 'comma.csv'),
    rewrite(([d, p, t, ...rest]) => [d, p, `"${t.replace('.', ',')}"`, ...rest]),
  );
  await writeFile(join(repo, 'fine.csv'), weather);
  const schema = {
    date: { type: 'timestamp', required: true },
    precipitation: { type: 'number', required: true },
    temp_max: { type: 'number', required: true },
  };
  const problemsOf = async (source: string) => {
    await writeFile(
      join(repo, 'params.yaml'),
      await paramsText({
        data: { source, format: 'auto', time_column: 'date' },
        validate: { max_reject_rate: 0.02, schema },
        task: { type: 'classification', target: 'precipitation', positive_above: 0 },
        features: { date: { kind: 'datetime', parts: ['month'] }, temp_max: { kind: 'numeric' } },
      }),
    );
    return (await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() })).problems.filter((p) =>
      p.key.startsWith('validate.'),
    );
  };
  const dates = await problemsOf('day-first.csv');
  assert.deepEqual(
    dates.map((p) => p.key),
    ['validate.schema.date'],
  );
  assert.match(
    dates[0].message,
    /none of the first 200 values of "date" .* reads as a timestamp \(e\.g\. "01\/01\/2012"\).*ISO 8601/,
  );
  const decimals = await problemsOf('comma.csv');
  assert.deepEqual(
    decimals.map((p) => p.key),
    ['validate.schema.temp_max'],
  );
  assert.match(decimals[0].message, /reads as a number \(e\.g\. "12,8"\).*a dot for decimals/);
  assert.deepEqual(await problemsOf('fine.csv'), []);
});

test('a folder as data.source is named as one, whatever data.format says', async () => {
  const repo = await tempRepo();
  await mkdir(join(repo, 'harness'));
  for (const format of ['auto', 'csv']) {
    await writeFile(
      join(repo, 'params.yaml'),
      await paramsText({ data: { source: 'harness', format, time_column: 'date' } }),
    );
    const { problems } = await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() });
    const source = problems.filter((p) => p.key.startsWith('data.'));
    assert.equal(source.length, 1, JSON.stringify(problems));
    assert.match(source[0].message, /data source harness is a folder .*; name one file in it/);
  }
});

test('a required column empty in every record is named before ingesting; empty only early, it is not; past what is read whole, a warning', async () => {
  const repo = await tempRepo();
  const weather = (
    await readFile(new URL('../node_modules/vega-datasets/data/seattle-weather.csv', import.meta.url), 'utf8')
  )
    .trim()
    .split('\n');
  // wind (the 5th field) blanked on the records for which `blank(i)` holds (i counts from 0 after the header).
  const blanked = (blank: (i: number) => boolean, rows = weather.slice(1)) =>
    [
      weather[0],
      ...rows.map((l, i) => {
        const cells = l.split(',');
        if (blank(i)) cells[4] = '';
        return cells.join(',');
      }),
    ].join('\n') + '\n';
  await writeFile(
    join(repo, 'no-wind.csv'),
    blanked(() => true),
  );
  await writeFile(
    join(repo, 'late-wind.csv'),
    blanked((i) => i < 300),
  );
  const schema = {
    date: { type: 'timestamp', required: true },
    temp_max: { type: 'number', required: true },
    wind: { type: 'number', required: true },
  };
  const setup = async (source: string, wind: Record<string, unknown> = schema.wind) =>
    writeFile(
      join(repo, 'params.yaml'),
      await paramsText({
        data: { source, format: 'auto', time_column: 'date' },
        validate: { max_reject_rate: 0.02, schema: { ...schema, wind } },
        task: { type: 'classification', target: 'temp_max', positive_above: 20 },
        features: { date: { kind: 'datetime', parts: ['month'] }, wind: { kind: 'numeric' } },
      }),
    );
  const check = async () => {
    const log = memoryLogger();
    const { problems } = await preflightProblems({ repoRoot: repo, against: 'source', log });
    return { problems, warnings: log.lines.filter((l) => l.includes('"warn"')) };
  };

  await setup('no-wind.csv');
  const empty = await check();
  assert.deepEqual(
    empty.problems.map((p) => p.key),
    ['validate.schema.wind'],
  );
  assert.match(
    empty.problems[0].message,
    /"wind" is empty in all 1461 records of the source no-wind\.csv, and validate\.schema\.wind requires a value, so every row would be rejected; fill the column in the source, or drop wind from validate\.schema and features/,
  );
  // Not required: validate keeps the rows.
  await setup('no-wind.csv', { type: 'number', required: false });
  assert.deepEqual(await check(), { problems: [], warnings: [] });

  // Empty in the first 200 records read, filled later: the rest of the file is looked at.
  await setup('late-wind.csv');
  assert.deepEqual(await check(), { problems: [], warnings: [] });

  // The same in Parquet: the rest is read for that column only.
  const { writeParquetTable } = await import('../core/data/parquet.ts');
  const { readCsvTable } = await import('../core/data/csv.ts');
  for (const name of ['no-wind', 'late-wind']) {
    const { table } = await readCsvTable(join(repo, `${name}.csv`));
    delete table.columns.__row;
    delete table.columns.__issue;
    await writeParquetTable(join(repo, `${name}.parquet`), table);
  }
  await setup('no-wind.parquet');
  assert.match((await check()).problems.map((p) => p.message).join('\n'), /"wind" is empty in all 1461 records/);
  await setup('late-wind.parquet');
  assert.deepEqual(await check(), { problems: [], warnings: [] });

  // A CSV above what is read whole: only its first records are known, so a warning saying so, not a refusal.
  const { CONFIRM_TEXT_BYTES } = await import('./sources.ts');
  const pad = 'x'.repeat(1000);
  const big = weather.slice(1).map((l) => `${l},${pad}`);
  const copies = Math.ceil(CONFIRM_TEXT_BYTES / (big.length * 1000)) + 1;
  await writeFile(
    join(repo, 'big.csv'),
    blanked(() => true, Array.from({ length: copies }, () => big).flat()).replace(/^[^\n]*/, `${weather[0]},pad`),
  );
  await setup('big.csv');
  const big_ = await check();
  assert.deepEqual(big_.problems, []);
  assert.equal(big_.warnings.length, 1);
  assert.match(
    big_.warnings[0],
    /\\"wind\\" is empty in the first 200 records of the source big\.csv \(only those are read before ingesting\)/,
  );
});

test('npm start: a source other than the raw store holds is listed with what is wrong with that source (here: not there)', async () => {
  const repo = await tempRepo();
  const params = await testParams({
    data: { source: WEATHER, time_column: 'date' },
    ingest: { batch_size: 500, batches_per_run: 0, max_batches: 1 },
  });
  await ingest({ repoRoot: repo, params, log: quietLog(), track: noTrack });
  await writeFile(
    join(repo, 'params.yaml'),
    await paramsText({ data: { ...params.data, source: 'no-such-flights.csv', format: 'auto' } }),
  );
  const { problems } = await preflightProblems({ repoRoot: repo, against: 'source', log: quietLog() });
  const about = problems.filter((p) => p.key === 'data.source').map((p) => p.message);
  assert.equal(about.length, 2, JSON.stringify(problems));
  assert.match(
    about[0],
    /holds records of vega-datasets:data\/seattle-weather\.csv, and one store never mixes two sources/,
  );
  assert.match(about[1], /no-such-flights\.csv/);
});
