import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { checkParams, parseParams, parseParamsYaml } from './params.ts';

test('the repository params.yaml is valid', async () => {
  const p = parseParams(await readFile('params.yaml', 'utf8'));
  assert.equal(p.ingest.batch_size, 15000);
  assert.equal(p.task.type, 'classification');
});

test('errors list every bad key with its path', async () => {
  const text = (await readFile('params.yaml', 'utf8'))
    .replace('batch_size: 15000', 'batch_size: -3')
    .replace('kind: numeric,', 'kind: numerik,');
  assert.throws(
    () => parseParams(text),
    (err: Error) => /ingest\.batch_size/.test(err.message) && /features\.distance/.test(err.message),
  );
});

test('a validate.schema range with min above max is refused up front, numbers and dates alike', async () => {
  const base = await readFile('params.yaml', 'utf8');
  assert.throws(
    () => parseParams(base.replace('min: 1, max: 6000', 'min: 6000, max: 1')),
    /validate\.schema\.distance\.max.*max 1 is below min 6000: the range would reject every value/s,
  );
  assert.throws(
    () => parseParams(base.replace("min: '2000-01-01', max: '2030-12-31'", "min: '2030-12-31', max: '2000-01-01'")),
    /validate\.schema\.date\.max.*max "2000-01-01" is below min "2030-12-31"/s,
  );
  assert.doesNotThrow(() => parseParams(base.replace('min: 1, max: 6000', 'min: 5, max: 5')), 'one value is a range');
});

test('the target cannot be a feature', async () => {
  const text = (await readFile('params.yaml', 'utf8')).replace(
    'features:\n',
    'features:\n  delay: { kind: numeric }\n',
  );
  assert.throws(() => parseParams(text), /cannot also be a feature/);
});

test('invalid YAML names the file', () => {
  assert.throws(() => parseParams('a: [1,', 'my.yaml'), /my\.yaml is not valid YAML/);
});

test('train.recent_refit: whole epochs 0–20 and a learning-rate factor in (0, 1], named when wrong', async () => {
  const text = await readFile('params.yaml', 'utf8');
  assert.deepEqual(parseParams(text).train?.recent_refit, { epochs: 1, learning_rate_factor: 0.1 });
  assert.throws(
    () => parseParams(text.replace(/learning_rate_factor: 0\.1/, 'learning_rate_factor: 0')),
    /train\.recent_refit\.learning_rate_factor/,
  );
  assert.throws(() => parseParams(text.replace(/epochs: 1 /, 'epochs: 1.5 ')), /train\.recent_refit\.epochs/);
  assert.equal(
    parseParams(text.replace(/ {2}recent_refit:[^\n]*\n(?: {4}[^\n]*\n){2}/, '')).train?.recent_refit,
    undefined,
    'optional',
  );
});

test('classification takes exactly one of positive_above, positive_class, classes; the metric fits binary or multi-class', async () => {
  const base = parseParamsYaml(await readFile(new URL('../../params.yaml', import.meta.url), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const withTask = (task: object, metric = 'log_loss') =>
    checkParams({
      ...base,
      validate: { ...base.validate, schema: { ...(base.validate.schema as object), kind: { type: 'category' } } },
      task: { type: 'classification', target: 'kind', ...task },
      train: { ...base.train, primary_metric: metric },
    }).problems.map((p) => [p.key, p.message.slice(0, 40)]);
  assert.deepEqual(withTask({ classes: 'auto' }, 'macro_f1'), []);
  assert.deepEqual(withTask({ positive_class: 'late' }), []);
  assert.deepEqual(withTask({ positive_class: true }), []);
  assert.deepEqual(withTask({ classes: 'auto' }, 'pr_auc'), [
    ['train.primary_metric', 'does not fit a multi-class (task.classes'],
  ]);
  assert.deepEqual(withTask({ positive_class: 'late' }, 'macro_f1'), [
    ['train.primary_metric', 'does not fit a classification task; use '],
  ]);
  assert.deepEqual(withTask({ positive_class: 'late', classes: 'auto' }), [
    ['task.positive_class/classes', 'classification needs exactly one of: pos'],
  ]);
  assert.deepEqual(withTask({ positive_above: 3 }), [['task.target', 'task.positive_above needs a numeric targ']]);
  assert.deepEqual(withTask({ classes: 'all' }), [['task.classes', 'Invalid input: expected "auto"']]);
});

test('a grid varies only candidate parameters, each value checked as one', async () => {
  const text = await readFile('params.yaml', 'utf8');
  const withGrid = (grid: string) =>
    checkParams(
      parseParamsYaml(text.replace('      patience: 20\n', `      patience: 20\n      grid: ${grid}\n`)),
    ).problems.map((p) => [p.key, p.message.split(';')[0]]);
  assert.deepEqual(withGrid('{ max_leaf_nodes: [31, 63] }'), []);
  assert.deepEqual(withGrid('{ momentum: [0.9] }'), [
    ['train.candidates.1.grid.momentum', 'not a parameter a grid can vary'],
  ]);
  assert.deepEqual(withGrid('{ name: [a, b] }'), [['train.candidates.1.grid.name', 'not a parameter a grid can vary']]);
  const bad = withGrid('{ learning_rate: [0.1, -1] }');
  assert.equal(bad.length, 1);
  assert.equal(bad[0][0], 'train.candidates.1.grid.learning_rate.1');
});

test('two candidates training under one name are refused up front, grid names included', async () => {
  const text = await readFile('params.yaml', 'utf8');
  const names = (yaml: string) => checkParams(parseParamsYaml(yaml)).problems.map((p) => [p.key, p.value]);
  assert.deepEqual(names(text.replace('- name: gbdt', '- name: wide_deep')), [
    ['train.candidates.1.name', 'wide_deep'],
  ]);
  // The same name with different grid values trains as distinct candidates.
  const gridded = text
    .replace('      patience: 20\n', '      patience: 20\n      grid: { max_leaf_nodes: [31] }\n')
    .replace('- name: gbdt', '- name: wide_deep');
  assert.deepEqual(names(gridded), []);
});

test('an unknown top-level section is named, with the sections there are', async () => {
  const text = await readFile('params.yaml', 'utf8');
  const problems = checkParams(parseParamsYaml(text.replace('drift:\n', 'drfit:\n'))).problems;
  assert.equal(problems.length, 1);
  assert.equal(problems[0].key, 'drfit');
  assert.match(problems[0].message, /not a section of params\.yaml \(its sections: data, .*drift\)/);
});

test('task.positive_class and task.classes are checked against the target labels validate allows', async () => {
  const base = parseParamsYaml(await readFile('params.yaml', 'utf8')) as Record<string, Record<string, unknown>>;
  const withTask = (task: object, allowed: string[]) =>
    checkParams({
      ...base,
      validate: {
        ...base.validate,
        schema: { ...(base.validate.schema as object), sky: { type: 'category', allowed } },
      },
      task: { type: 'classification', target: 'sky', ...task },
      train: { ...base.train, primary_metric: 'log_loss' },
    }).problems.map((p) => [p.key, p.message]);
  assert.deepEqual(withTask({ positive_class: 'rain' }, ['sun', 'rain']), []);
  const wrong = withTask({ positive_class: 'Rain' }, ['sun', 'rain']);
  assert.equal(wrong.length, 1);
  assert.equal(wrong[0][0], 'task.positive_class');
  assert.match(wrong[0][1], /does not list it.*set it to rain$/);
  assert.deepEqual(withTask({ positive_class: 'snow' }, ['sun', 'rain'])[0]?.[0], 'task.positive_class');
  assert.deepEqual(withTask({ classes: 'auto' }, ['sun', 'rain', 'fog']), []);
  assert.deepEqual(withTask({ classes: 'auto' }, ['sun', 'rain'])[0]?.[0], 'task.classes');
});

test('an invalid model name says what a valid one looks like', async () => {
  const text = await readFile('params.yaml', 'utf8');
  const problems = checkParams(
    parseParamsYaml(text.replace('model_name: flight-delay', 'model_name: my team/delay')),
  ).problems;
  assert.deepEqual(
    problems.map((p) => p.key),
    ['register.model_name'],
  );
  assert.match(problems[0].message, /lowercase letters, digits and -.*e\.g\. my-model/);
});

test('an empty params file is one problem saying where to start; shares given as percents say they are shares', async () => {
  for (const raw of [null, 'data', ['data']]) {
    const { problems } = checkParams(raw);
    assert.deepEqual(
      problems.map((p) => p.key),
      ['(root)'],
    );
    assert.match(problems[0].message, /must be a mapping of sections \(data, ingest.*docs\/examples/);
  }
  const text = await readFile('params.yaml', 'utf8');
  const problems = checkParams(
    parseParamsYaml(
      text.replace('max_reject_rate: 0.02', 'max_reject_rate: 2').replace('test_fraction: 0.15', 'test_fraction: 15'),
    ),
  ).problems.map((p) => [p.key, p.message]);
  assert.deepEqual(problems, [
    ['validate.max_reject_rate', 'a share of the rows, from 0 to 1 (0.02 is 2 %)'],
    ['split.test_fraction', 'a share of the records, above 0 and below 1 (0.15 is 15 %)'],
  ]);
});

test('a column type the schema does not know is named once, not also as a feature kind mismatch', async () => {
  const text = await readFile('params.yaml', 'utf8');
  const problems = checkParams(
    parseParamsYaml(text.replace('{ type: number,    required: true, min: 1', '{ type: float, required: true, min: 1')),
  ).problems;
  assert.deepEqual(
    problems.map((p) => p.key),
    ['validate.schema.distance.type'],
  );
});

test('task.positive_above outside the target range validate allows is refused (one label only)', async () => {
  const text = await readFile('params.yaml', 'utf8');
  const at = (threshold: number) =>
    checkParams(parseParamsYaml(text.replace('positive_above: 15', `positive_above: ${threshold}`))).problems.map(
      (p) => [p.key, p.message.split(',')[0]],
    );
  assert.deepEqual(at(15), []);
  assert.deepEqual(at(2880), [['task.positive_above', 'validate.schema.delay.max is 2880']]);
  assert.deepEqual(at(-1441), [['task.positive_above', 'validate.schema.delay.min is -1440']]);
  assert.deepEqual(at(-1440), []);
});
