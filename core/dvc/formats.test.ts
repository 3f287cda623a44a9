import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outFromHash, parseDvcFile, serializeDvcFile } from './dvcfile.ts';
import { parsePipeline } from './dvcyaml.ts';
import { lockEntry, lockStageView, parseLock, serializeLock, updateLock } from './lock.ts';
import {
  ensureGitignored,
  initDvcRepo,
  parseConfig,
  readDvcConfig,
  resolveRemote,
  serializeConfig,
  cacheDirOf,
} from './config.ts';
import { readParamValues, selectParams } from './param-values.ts';
import { PyFloat } from './pyjson.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const DIR_MD5 = 'ecf8f6613d6b2a92c412c00f6a32657c.dir';

test('.dvc file for a directory is written in DVC key order', () => {
  const out = outFromHash('images', {
    kind: 'dir',
    md5: DIR_MD5,
    size: 12,
    nfiles: 2,
    entries: [],
    manifest: Buffer.from('[]'),
  });
  assert.equal(
    serializeDvcFile({ outs: [out], extra: {}, outsIndex: 0 }),
    `outs:\n- md5: ${DIR_MD5}\n  size: 12\n  nfiles: 2\n  hash: md5\n  path: images\n`,
  );
  const file = outFromHash('run.sh', { kind: 'file', md5: 'b1946ac92492d2347c6235b4d2611184', size: 6, isexec: true });
  assert.equal(
    serializeDvcFile({ outs: [file], extra: {}, outsIndex: 0 }),
    'outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  isexec: true\n  hash: md5\n  path: run.sh\n',
  );
});

test('.dvc files keep user keys around the outs they update', () => {
  const text = `outs:\n- md5: ${DIR_MD5}\n  size: 12\n  nfiles: 2\n  hash: md5\n  path: data\n  desc: raw taxi trips\n  push: false\nmeta:\n  owner: data-team\n`;
  const parsed = parseDvcFile(text, 'data.dvc');
  assert.equal(parsed.outs[0].extra.desc, 'raw taxi trips');
  assert.equal(serializeDvcFile(parsed), text);
  assert.throws(() => parseDvcFile('outs: 3\n', 'x.dvc'), /x\.dvc: "outs" must be a list/);
  assert.throws(() => parseDvcFile('outs:\n- md5: abc\n', 'x.dvc'), /outs\[0\] has no "path"/);
  assert.throws(() => parseDvcFile('outs:\n- path: a\n  size: -1\n', 'x.dvc'), /non-negative integer/);
});

const PIPELINE = `
stages:
  ingest:
    cmd: npm run ingest
    deps:
    - training/stages/ingest.ts
    params:
    - ingest
    - data.source
    outs:
    - data:
        persist: true
        cache: true
  train:
    cmd:
    - node a.js
    - node b.js
    wdir: training
    deps: [../data]
    params:
    - train.lr
    - custom.yaml:
      - seed
    - whole.yaml:
    outs:
    - ../artifacts/model
    metrics:
    - ../metrics/train.json:
        cache: false
    plots:
    - ../metrics/curve.csv:
        x: step
        y: loss
    frozen: false
    always_changed: true
artifacts:
  taxi-model:
    path: artifacts/model
    type: model
plots:
- metrics/curve.csv
`;

test('dvc.yaml: commands, wdir, params forms, out flags, artifacts', () => {
  const def = parsePipeline(PIPELINE);
  assert.deepEqual(
    def.stages.map((s) => s.name),
    ['ingest', 'train'],
  );
  const [ingest, train] = def.stages;
  assert.equal(ingest.wdir, '.');
  assert.deepEqual(ingest.params, [{ file: 'params.yaml', keys: ['ingest', 'data.source'] }]);
  assert.deepEqual(
    ingest.outs.map((o) => [o.path, o.cache, o.persist, o.kind]),
    [['data', true, true, 'outs']],
  );
  assert.deepEqual(train.cmd, ['node a.js', 'node b.js']);
  assert.equal(train.wdir, 'training');
  assert.deepEqual(train.params, [
    { file: 'params.yaml', keys: ['train.lr'] },
    { file: 'custom.yaml', keys: ['seed'] },
    { file: 'whole.yaml', keys: [] },
  ]);
  assert.deepEqual(
    train.outs.map((o) => [o.path, o.kind, o.cache]),
    [
      ['../artifacts/model', 'outs', true],
      ['../metrics/train.json', 'metrics', false],
      ['../metrics/curve.csv', 'plots', true],
    ],
  );
  assert.equal(train.alwaysChanged, true);
  assert.deepEqual(Object.keys(def.sections), ['artifacts', 'plots']);
});

test('dvc.yaml errors name the stage and the problem', () => {
  assert.throws(() => parsePipeline('stages:\n  a:\n    cmd: x\n    dep: [y]\n'), /stage 'a' has unknown key "dep"/);
  assert.throws(() => parsePipeline('stages:\n  a:\n    deps: [y]\n'), /stage 'a' needs "cmd"/);
  assert.throws(() => parsePipeline('stages:\n  a:\n    foreach: [1]\n    do: {cmd: x}\n'), /foreach\/matrix/);
  assert.throws(() => parsePipeline('stages:\n  a:\n    cmd: echo ${x}\n'), /templating/);
  assert.throws(
    () => parsePipeline('stages:\n  a:\n    cmd: x\n    outs:\n    - o:\n        cache: maybe\n'),
    /"cache" must be true or false/,
  );
  assert.throws(
    () => parsePipeline('stages:\n  a:\n    cmd: x\n    outs:\n    - o:\n        colour: red\n'),
    /unknown flag "colour"/,
  );
  assert.throws(() => parsePipeline('stagez: {}\n'), /unknown top-level key "stagez"/);
  assert.deepEqual(parsePipeline('').stages, []);
});

test('dvc.lock entry: key order, sorting, params file order, byte-exact text', () => {
  const entry = lockEntry({
    cmd: 'node train.js',
    deps: [
      { path: 'src/train.js', md5: '591785b794601e212b260e25925636fd', size: 6 },
      { path: 'data', md5: DIR_MD5, size: 12, nfiles: 2 },
    ],
    params: {
      'b.yaml': { z: 1 },
      'params.yaml': { 'train.lr': 0.1, 'train.epochs': 3, ingest: { batch: 10, source: 'x.csv' } },
      'a.yaml': { y: new PyFloat(2) },
    },
    outs: [
      { path: 'metrics/train.json', md5: 'b1946ac92492d2347c6235b4d2611184', size: 6 },
      { path: 'artifacts/run.sh', md5: 'b1946ac92492d2347c6235b4d2611184', size: 6, isexec: true },
    ],
  });
  const lock = updateLock(parseLock("schema: '2.0'\nstages:\n  other:\n    cmd: echo\n", 'dvc.lock'), 'train', entry, [
    'train',
    'other',
  ]);
  assert.equal(
    serializeLock(lock),
    `schema: '2.0'
stages:
  train:
    cmd: node train.js
    deps:
    - path: data
      hash: md5
      md5: ${DIR_MD5}
      size: 12
      nfiles: 2
    - path: src/train.js
      hash: md5
      md5: 591785b794601e212b260e25925636fd
      size: 6
    params:
      params.yaml:
        ingest:
          batch: 10
          source: x.csv
        train.epochs: 3
        train.lr: 0.1
      a.yaml:
        y: 2.0
      b.yaml:
        z: 1
    outs:
    - path: artifacts/run.sh
      hash: md5
      md5: b1946ac92492d2347c6235b4d2611184
      size: 6
      isexec: true
    - path: metrics/train.json
      hash: md5
      md5: b1946ac92492d2347c6235b4d2611184
      size: 6
  other:
    cmd: echo
`,
  );
  const view = lockStageView('train', lock.stages.get('train')!);
  assert.equal(view.deps[0].nfiles, 2);
  assert.equal(view.outs[0].isexec, true);
  assert.throws(() => parseLock('stages: {}\n', 'dvc.lock'), /unsupported lock schema/);
  assert.throws(() => lockStageView('x', { deps: [] }), /stage 'x' has no valid "cmd"/);
  assert.equal(parseLock('', 'dvc.lock').stages.size, 0);
});

test('params: dotted keys, whole sections, whole files, missing keys', async () => {
  const file = { train: { lr: 0.1, layers: [8, 4] }, seed: 1 };
  assert.deepEqual(selectParams(file, ['train.lr', 'train.layers.1', 'train'], 'params.yaml'), {
    'train.lr': 0.1,
    'train.layers.1': 4,
    train: { lr: 0.1, layers: [8, 4] },
  });
  assert.deepEqual(selectParams(file, [], 'params.yaml'), file);
  assert.throws(
    () => selectParams(file, ['train.lr', 'train.momentum', 'nope'], 'params.yaml'),
    /Parameters 'train\.momentum', 'nope' are missing from 'params\.yaml'/,
  );
  const dir = await tempDir('params-');
  await writeFile(join(dir, 'params.yaml'), 'a:\n  b: 1.0\n');
  const v = await readParamValues(join(dir, 'params.yaml'), ['a.b'], 'params.yaml');
  assert.ok(v['a.b'] instanceof PyFloat);
  await assert.rejects(
    readParamValues(join(dir, 'missing.yaml'), ['x'], 'missing.yaml'),
    /Parameters file 'missing\.yaml' does not exist/,
  );
  await writeFile(join(dir, 'p.toml'), 'a = 1');
  await assert.rejects(readParamValues(join(dir, 'p.toml'), ['a'], 'p.toml'), /only YAML and JSON/);
});

test('.dvc/config: configobj format, config.local override, relative URLs from .dvc/', async () => {
  const text = serializeConfig({ core: { remote: 'local' }, 'remote "local"': { url: '../.dvc-remote' } });
  assert.equal(text, `[core]\n    remote = local\n['remote "local"']\n    url = ../.dvc-remote\n`);
  assert.deepEqual(parseConfig(text + '# note\n[cache]\n    dir = "/x y"  \n', 'c'), {
    core: { remote: 'local' },
    'remote "local"': { url: '../.dvc-remote' },
    cache: { dir: '/x y' },
  });
  assert.deepEqual(parseConfig('[remote "gcs"]\n  url = gs://b/p # comment\n', 'c'), {
    'remote "gcs"': { url: 'gs://b/p' },
  });
  assert.throws(() => parseConfig('url = x\n', 'cfg'), /cfg:1: expected "key = value" inside a \[section\]/);

  const repo = await tempDir('cfg-');
  const created = await initDvcRepo(repo);
  assert.equal(created.length, 3);
  assert.equal(await readFile(join(repo, '.dvc', '.gitignore'), 'utf8'), '/config.local\n/tmp\n/cache\n');
  assert.match(await readFile(join(repo, '.dvcignore'), 'utf8'), /^# Add patterns of files dvc should ignore/);
  assert.deepEqual(await initDvcRepo(repo), []);
  let config = await readDvcConfig(repo);
  assert.deepEqual(resolveRemote(config, repo), { name: 'local', url: join(repo, '.dvc-remote') });
  assert.equal(cacheDirOf(config, repo), join(repo, '.dvc', 'cache'));
  await writeFile(
    join(repo, '.dvc', 'config.local'),
    '[\'remote "gcs"\']\n    url = gs://bucket/dvc\n[core]\n    remote = gcs\n',
  );
  config = await readDvcConfig(repo);
  assert.deepEqual(resolveRemote(config, repo), { name: 'gcs', url: 'gs://bucket/dvc' });
  assert.throws(
    () => resolveRemote(config, repo, 'nope'),
    /remote 'nope' is not configured .*known remotes: local, gcs/,
  );
  assert.throws(() => resolveRemote({}, repo), /no DVC remote given and no default set/);
});

test('ensureGitignored appends once, like dvc add', async () => {
  const dir = await tempDir('gi-');
  await writeFile(join(dir, '.gitignore'), 'node_modules/');
  assert.equal(await ensureGitignored(dir, 'data'), true);
  assert.equal(await ensureGitignored(dir, 'data'), false);
  assert.equal(await readFile(join(dir, '.gitignore'), 'utf8'), 'node_modules/\n/data\n');
  await writeFile(join(dir, '.gitignore'), '/data/\n');
  assert.equal(await ensureGitignored(dir, 'data'), false);
});
