import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { memoryLogger } from '../../core/platform/log.ts';
import { initDvcRepo, pull, push } from '../../core/dvc/index.ts';
import { formatSummary, runPipeline } from './runner.ts';
import type { PipelineResult, RunPipelineOptions } from './runner.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sink = (): Writable => new Writable({ write: (_c, _e, done) => done() });

// Each script appends its name to runs.log (not a declared output) so tests can see what ran.
const SCRIPTS: Record<string, string> = {
  'steps/prep.js': `const fs=require('fs');fs.appendFileSync('runs.log','prep\\n');fs.writeFileSync('prepared.txt',fs.readFileSync('input.txt','utf8').toUpperCase());\n`,
  'steps/train.js': `const fs=require('fs');fs.appendFileSync('runs.log','train\\n');const lr=/lr: (\\S+)/.exec(fs.readFileSync('params.yaml','utf8'))[1];fs.mkdirSync('model',{recursive:true});fs.writeFileSync('model/weights.txt',fs.readFileSync('prepared.txt','utf8')+lr+'\\n');\n`,
  'steps/evaluate.js': `const fs=require('fs');fs.appendFileSync('runs.log','evaluate\\n');fs.mkdirSync('metrics',{recursive:true});fs.writeFileSync('metrics/eval.json',JSON.stringify({size:fs.readFileSync('model/weights.txt').length})+'\\n');\n`,
};

const DVC_YAML = `stages:
  prep:
    cmd: node steps/prep.js
    deps:
    - input.txt
    - steps/prep.js
    outs:
    - prepared.txt
  train:
    cmd: node steps/train.js
    deps:
    - prepared.txt
    - steps/train.js
    params:
    - train.lr
    - seed
    outs:
    - model
  evaluate:
    cmd: node steps/evaluate.js
    deps:
    - model
    - steps/evaluate.js
    metrics:
    - metrics/eval.json:
        cache: false
`;

async function makeRepo(): Promise<string> {
  const repo = await tempDir('pipeline-');
  await initDvcRepo(repo);
  await mkdir(join(repo, 'steps'));
  for (const [p, text] of Object.entries(SCRIPTS)) await writeFile(join(repo, p), text);
  await writeFile(join(repo, 'input.txt'), 'hello\n');
  await writeFile(join(repo, 'params.yaml'), 'seed: 7\ntrain:\n  lr: 0.1\n  epochs: 3\n');
  await writeFile(join(repo, 'dvc.yaml'), DVC_YAML);
  return repo;
}

async function run(repo: string, extra: Partial<RunPipelineOptions> = {}): Promise<PipelineResult> {
  return runPipeline({ repoRoot: repo, log: memoryLogger(), stdout: sink(), stderr: sink(), ...extra });
}

async function runsLog(repo: string): Promise<string[]> {
  try {
    const text = await readFile(join(repo, 'runs.log'), 'utf8');
    await rm(join(repo, 'runs.log'));
    return text.split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const statuses = (r: PipelineResult): string[] => r.stages.map((s) => `${s.name}:${s.status}`);

test('first run executes every stage in order and writes dvc.lock exactly as DVC would', async () => {
  const repo = await makeRepo();
  const r = await run(repo);
  assert.equal(r.ok, true);
  assert.deepEqual(statuses(r), ['prep:ran', 'train:ran', 'evaluate:ran']);
  assert.deepEqual(await runsLog(repo), ['prep', 'train', 'evaluate']);
  const weights = 'HELLO\n0.1\n';
  const manifest = `[{"md5": "${md5(weights)}", "relpath": "weights.txt"}]`;
  const metrics = '{"size":10}\n';
  assert.equal(
    await readFile(join(repo, 'dvc.lock'), 'utf8'),
    `schema: '2.0'
stages:
  prep:
    cmd: node steps/prep.js
    deps:
    - path: input.txt
      hash: md5
      md5: b1946ac92492d2347c6235b4d2611184
      size: 6
    - path: steps/prep.js
      hash: md5
      md5: ${md5(SCRIPTS['steps/prep.js'])}
      size: ${SCRIPTS['steps/prep.js'].length}
    outs:
    - path: prepared.txt
      hash: md5
      md5: ${md5('HELLO\n')}
      size: 6
  train:
    cmd: node steps/train.js
    deps:
    - path: prepared.txt
      hash: md5
      md5: ${md5('HELLO\n')}
      size: 6
    - path: steps/train.js
      hash: md5
      md5: ${md5(SCRIPTS['steps/train.js'])}
      size: ${SCRIPTS['steps/train.js'].length}
    params:
      params.yaml:
        seed: 7
        train.lr: 0.1
    outs:
    - path: model
      hash: md5
      md5: ${md5(manifest)}.dir
      size: 10
      nfiles: 1
  evaluate:
    cmd: node steps/evaluate.js
    deps:
    - path: model
      hash: md5
      md5: ${md5(manifest)}.dir
      size: 10
      nfiles: 1
    - path: steps/evaluate.js
      hash: md5
      md5: ${md5(SCRIPTS['steps/evaluate.js'])}
      size: ${SCRIPTS['steps/evaluate.js'].length}
    outs:
    - path: metrics/eval.json
      hash: md5
      md5: ${md5(metrics)}
      size: ${metrics.length}
`,
  );
  // Cached outs are stored like `dvc repro` does; `cache: false` metrics are not.
  const cache = join(repo, '.dvc', 'cache', 'files', 'md5');
  assert.ok((await stat(join(cache, md5(manifest).slice(0, 2), md5(manifest).slice(2) + '.dir'))).isFile());
  assert.ok((await stat(join(cache, md5(weights).slice(0, 2), md5(weights).slice(2)))).isFile());
  await assert.rejects(stat(join(cache, md5(metrics).slice(0, 2), md5(metrics).slice(2))));
  assert.match(formatSummary(r), /^stage\s+status\s+duration\s+details\nprep\s+ran\s/);
});

test('up-to-date stages are skipped; changes rerun only what they affect', async () => {
  const repo = await makeRepo();
  await run(repo);
  await runsLog(repo);
  const lockBefore = await readFile(join(repo, 'dvc.lock'), 'utf8');

  const again = await run(repo);
  assert.deepEqual(statuses(again), ['prep:skipped', 'train:skipped', 'evaluate:skipped']);
  assert.deepEqual(await runsLog(repo), []);
  assert.equal(await readFile(join(repo, 'dvc.lock'), 'utf8'), lockBefore);

  // An unrelated param (epochs) changes nothing; train.lr reruns train, and evaluate because the model changed.
  await writeFile(join(repo, 'params.yaml'), 'seed: 7\ntrain:\n  lr: 0.1\n  epochs: 30\n');
  assert.deepEqual(statuses(await run(repo)), ['prep:skipped', 'train:skipped', 'evaluate:skipped']);
  await writeFile(join(repo, 'params.yaml'), 'seed: 7\ntrain:\n  lr: 0.2\n  epochs: 30\n');
  const p = await run(repo);
  assert.deepEqual(statuses(p), ['prep:skipped', 'train:ran', 'evaluate:ran']);
  assert.deepEqual(p.stages[1].reasons, ["param 'train.lr' changed (0.1 -> 0.2)"]);
  assert.deepEqual(await runsLog(repo), ['train', 'evaluate']);

  // A dep edit that does not change the model reruns train but not evaluate (like DVC).
  await writeFile(join(repo, 'steps', 'train.js'), SCRIPTS['steps/train.js'] + '// comment\n');
  assert.deepEqual(statuses(await run(repo)), ['prep:skipped', 'train:ran', 'evaluate:skipped']);
  await runsLog(repo);

  // The raw input changes everything downstream.
  await writeFile(join(repo, 'input.txt'), 'bye\n');
  assert.deepEqual(statuses(await run(repo)), ['prep:ran', 'train:ran', 'evaluate:ran']);
  assert.equal(await readFile(join(repo, 'model', 'weights.txt'), 'utf8'), 'BYE\n0.2\n');

  // A deleted output makes its stage run again.
  await rm(join(repo, 'metrics'), { recursive: true });
  const d = await run(repo);
  assert.deepEqual(statuses(d), ['prep:skipped', 'train:skipped', 'evaluate:ran']);
  assert.deepEqual(d.stages[2].reasons, ["out 'metrics/eval.json' is missing"]);
});

test('--force, single-stage selection and --dry', async () => {
  const repo = await makeRepo();
  const dry = await run(repo, { dry: true });
  assert.deepEqual(statuses(dry), ['prep:would-run', 'train:would-run', 'evaluate:would-run']);
  await assert.rejects(stat(join(repo, 'dvc.lock')));
  assert.deepEqual(await runsLog(repo), []);

  assert.deepEqual(statuses(await run(repo, { target: 'train' })), ['prep:ran', 'train:ran']);
  assert.deepEqual(await runsLog(repo), ['prep', 'train']);
  const dry2 = await run(repo, { dry: true });
  assert.deepEqual(statuses(dry2), ['prep:skipped', 'train:skipped', 'evaluate:would-run']);
  assert.deepEqual(dry2.stages[2].reasons, ['no entry in dvc.lock yet']);
  await writeFile(join(repo, 'input.txt'), 'changed\n');
  const dry3 = await run(repo, { dry: true });
  assert.deepEqual(dry3.stages[1].reasons, ["upstream stage 'prep' would run"]);

  assert.deepEqual(statuses(await run(repo, { force: true, target: 'evaluate' })), [
    'prep:ran',
    'train:ran',
    'evaluate:ran',
  ]);
  await assert.rejects(run(repo, { target: 'nope' }), /unknown stage 'nope'/);
});

test('a stage named in rerun runs although up to date, with the reason given; downstream follows only if its deps change', async () => {
  const repo = await makeRepo();
  await run(repo);
  await runsLog(repo);
  const r = await run(repo, { rerun: { train: 'its last decision depended on the environment' } });
  assert.deepEqual(statuses(r), ['prep:skipped', 'train:ran', 'evaluate:skipped']);
  assert.deepEqual(r.stages[1].reasons, ['its last decision depended on the environment']);
  assert.deepEqual(await runsLog(repo), ['train']);
  // A stage that has its own reasons keeps them.
  await writeFile(join(repo, 'params.yaml'), 'seed: 7\ntrain:\n  lr: 0.3\n  epochs: 3\n');
  const p = await run(repo, { rerun: { train: 'unused' } });
  assert.deepEqual(p.stages[1].reasons, ["param 'train.lr' changed (0.1 -> 0.3)"]);
});

test('a failing stage stops the run, keeps its previous lock entry, and reports the exit code', async () => {
  const repo = await makeRepo();
  await run(repo);
  const lockBefore = await readFile(join(repo, 'dvc.lock'), 'utf8');
  await writeFile(
    join(repo, 'steps', 'train.js'),
    `require('fs').appendFileSync('runs.log','train\\n');process.exit(3);\n`,
  );
  await writeFile(join(repo, 'input.txt'), 'new input\n');
  await runsLog(repo);
  const r = await run(repo);
  assert.equal(r.ok, false);
  assert.equal(r.failed, 'train');
  assert.deepEqual(statuses(r), ['prep:ran', 'train:failed', 'evaluate:not-run']);
  assert.equal(r.stages[1].exitCode, 3);
  assert.match(r.stages[1].error!, /exited with code 3: node steps\/train\.js/);
  assert.deepEqual(await runsLog(repo), ['prep', 'train']);
  const lockAfter = await readFile(join(repo, 'dvc.lock'), 'utf8');
  const entry = (text: string, name: string): string => text.split(`  ${name}:\n`)[1].split(/\n {2}\w+:\n/)[0];
  assert.notEqual(entry(lockAfter, 'prep'), entry(lockBefore, 'prep')); // prep succeeded and was recorded
  assert.equal(entry(lockAfter, 'train'), entry(lockBefore, 'train'));
  assert.equal(entry(lockAfter, 'evaluate'), entry(lockBefore, 'evaluate'));
  assert.match(formatSummary(r), /pipeline FAILED at stage 'train'/);
});

test('a stage that does not create its declared output fails', async () => {
  const repo = await makeRepo();
  await writeFile(join(repo, 'dvc.yaml'), 'stages:\n  lazy:\n    cmd: node -e "0"\n    outs:\n    - never.txt\n');
  const r = await run(repo);
  assert.deepEqual(statuses(r), ['lazy:failed']);
  assert.match(r.stages[0].error!, /did not create declared output 'never\.txt'/);
  await assert.rejects(stat(join(repo, 'dvc.lock')));
});

test('a missing dependency and a missing parameter fail with clear messages', async () => {
  const repo = await makeRepo();
  await rm(join(repo, 'input.txt'));
  const r = await run(repo);
  assert.match(r.stages[0].error!, /dependency 'input\.txt' does not exist; create it \(npm run data:pull/);
  await writeFile(join(repo, 'input.txt'), 'x\n');
  await writeFile(join(repo, 'params.yaml'), 'train:\n  lr: 1\n');
  const p = await run(repo);
  assert.deepEqual(statuses(p), ['prep:ran', 'train:failed', 'evaluate:not-run']);
  assert.match(p.stages[1].error!, /Parameters 'seed' are missing from 'params\.yaml'/);
});

test('command lists, wdir, whole-section params and stage output streaming', async () => {
  const repo = await makeRepo();
  await mkdir(join(repo, 'sub'));
  await writeFile(
    join(repo, 'dvc.yaml'),
    `stages:
  multi:
    cmd:
    - node -e "require('fs').writeFileSync('a.txt','a')"
    - node -e "process.stdout.write('from-stage'); require('fs').writeFileSync('b.txt', require('fs').readFileSync('a.txt','utf8')+'b')"
    wdir: sub
    params:
    - ../params.yaml:
      - train
    outs:
    - b.txt
`,
  );
  let seen = '';
  const out = new Writable({ write: (c, _e, done) => ((seen += c.toString()), done()) });
  const r = await run(repo, { stdout: out });
  assert.deepEqual(statuses(r), ['multi:ran']);
  assert.equal(seen, 'from-stage');
  assert.equal(await readFile(join(repo, 'sub', 'b.txt'), 'utf8'), 'ab');
  const lock = await readFile(join(repo, 'dvc.lock'), 'utf8');
  assert.match(lock, / {2}multi:\n {4}cmd:\n {4}- node -e .*\n {4}- node -e /);
  assert.match(
    lock,
    / {4}params:\n {6}\.\.\/params\.yaml:\n {8}train:\n {10}lr: 0\.1\n {10}epochs: 3\n {4}outs:\n {4}- path: b\.txt\n/,
  );
  assert.deepEqual(statuses(await run(repo)), ['multi:skipped']);
});

test('cached pipeline outputs can be pushed and pulled into a fresh clone', async () => {
  const repo = await makeRepo();
  await run(repo);
  await push({ repoRoot: repo, log: memoryLogger() });
  const clone = await tempDir('pipeline-clone-');
  for (const f of ['.dvc', 'dvc.yaml', 'dvc.lock', 'params.yaml', 'steps', 'input.txt'])
    await cp(join(repo, f), join(clone, f), { recursive: true });
  await rm(join(clone, '.dvc', 'cache'), { recursive: true, force: true });
  await writeFile(
    join(clone, '.dvc', 'config'),
    `[core]\n    remote = local\n['remote "local"']\n    url = ${join(repo, '.dvc-remote')}\n`,
  );
  await pull({ repoRoot: clone, log: memoryLogger() });
  assert.equal(await readFile(join(clone, 'model', 'weights.txt'), 'utf8'), 'HELLO\n0.1\n');
  assert.equal(await readFile(join(clone, 'prepared.txt'), 'utf8'), 'HELLO\n');
  // metrics are `cache: false` (they live in git), so pull does not create them: evaluate reruns.
  assert.deepEqual(statuses(await run(clone)), ['prep:skipped', 'train:skipped', 'evaluate:ran']);
});

test('frozen stages are not run; always_changed and callback stages always run', async () => {
  const repo = await makeRepo();
  await writeFile(
    join(repo, 'dvc.yaml'),
    `stages:
  ice:
    cmd: node -e "require('fs').appendFileSync('runs.log','ice\\\\n')"
    frozen: true
  always:
    cmd: node -e "require('fs').appendFileSync('runs.log','always\\\\n');require('fs').writeFileSync('a.txt','a')"
    outs:
    - a.txt
    always_changed: true
  callback:
    cmd: node -e "require('fs').appendFileSync('runs.log','callback\\\\n')"
`,
  );
  const first = await run(repo);
  assert.deepEqual(statuses(first), ['ice:skipped', 'always:ran', 'callback:ran']);
  assert.deepEqual(first.stages[0].reasons, ['frozen']);
  const second = await run(repo);
  assert.deepEqual(statuses(second), ['ice:skipped', 'always:ran', 'callback:ran']);
  assert.deepEqual(second.stages[1].reasons, ['always_changed is set']);
  assert.deepEqual(await runsLog(repo), ['always', 'callback', 'always', 'callback']);
});

test('a missing raw store says how it is made: ingesting data.source, or pulling the tracked version', async () => {
  const repo = await makeRepo();
  await writeFile(join(repo, 'dvc.yaml'), 'stages:\n  check:\n    cmd: node -e "0"\n    deps:\n    - data\n');
  const r = await run(repo);
  assert.deepEqual(statuses(r), ['check:failed']);
  assert.match(
    r.stages[0].error!,
    /dependency 'data' does not exist; the raw store data\/ is filled by `npm run ingest` or `npm start` from params\.yaml data\.source, or fetched by `npm run data:pull`/,
  );
});
