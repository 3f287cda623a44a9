import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseParams } from './params.ts';

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
