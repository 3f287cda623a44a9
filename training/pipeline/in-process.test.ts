import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { memoryLogger } from '../../core/platform/log.ts';
import { initDvcRepo } from '../../core/dvc/index.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';
import { hostableEntry, productStageEntries } from './in-process.ts';
import { runPipeline, type PipelineResult } from './runner.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STAGE_CLI = pathToFileURL(join(ROOT, 'training/stage-cli.ts')).href;
const IS_MAIN = pathToFileURL(join(ROOT, 'core/platform/is-main.ts')).href;
const CONTRACT = pathToFileURL(join(ROOT, 'training/contracts/contract.ts')).href;

/** A stage script as the product writes them: a contract, a main, and the isMain-guarded runStage call. */
function stageScript(name: string, body: string, isMainFrom = STAGE_CLI): string {
  return `import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { runStage } from '${STAGE_CLI}';
import { isMain } from '${isMainFrom}';
import { defineStage } from '${CONTRACT}';
const contract = defineStage({ name: '${name}', entry: 'stages/${name}.ts', inputs: [], paramKeys: [], outputs: [] });
if (isMain(import.meta.url)) {
  await runStage(contract, async ({ log }) => {
    appendFileSync('runs.log', '${name} ' + process.pid + '\\n');
    ${body}
    log.info('${name} wrote its output');
  });
}
`;
}

const SCRIPTS: Record<string, string> = {
  'stages/a.ts': stageScript('a', `writeFileSync('a.txt', readFileSync('input.txt', 'utf8').toUpperCase());`),
  'stages/b.ts': stageScript(
    'b',
    `if (readFileSync('a.txt', 'utf8').includes('BOOM')) throw new Error('the input says BOOM; remove it');
    writeFileSync('b.txt', readFileSync('a.txt', 'utf8') + '!');`,
  ),
  // Its guard comes straight from core/platform: hosting holds for it too.
  'stages/c.ts': stageScript('c', `writeFileSync('c.txt', readFileSync('b.txt', 'utf8') + '?');`, IS_MAIN),
  // Does its work at its top level instead of handing a main to runStage.
  'stages/plain.ts': `import { appendFileSync } from 'node:fs';\nappendFileSync('plain.txt', 'plain');\n`,
};

const DVC_YAML = ['a', 'b', 'c']
  .map((s, i) => {
    const deps = [`stages/${s}.ts`, i === 0 ? 'input.txt' : `${'abc'[i - 1]}.txt`];
    return `  ${s}:\n    cmd: node --import tsx stages/${s}.ts\n    deps:\n${deps.map((d) => `    - ${d}\n`).join('')}    outs:\n    - ${s}.txt\n`;
  })
  .join('');

async function makeRepo(input: string, dvcYaml = `stages:\n${DVC_YAML}`): Promise<string> {
  const repo = await tempDir('in-process-');
  await initDvcRepo(repo);
  await symlink(resolve(ROOT, 'node_modules'), join(repo, 'node_modules'));
  await writeFile(join(repo, 'package.json'), '{ "type": "module" }\n');
  await mkdir(join(repo, 'stages'));
  for (const [p, text] of Object.entries(SCRIPTS)) await writeFile(join(repo, p), text);
  await writeFile(join(repo, 'input.txt'), input);
  await writeFile(join(repo, 'dvc.yaml'), dvcYaml);
  return repo;
}

const HOSTABLE = Object.keys(SCRIPTS);

/** Run the pipeline in `repo` (the working directory, as `npm start` runs it); stage log lines are returned. */
async function run(
  repo: string,
  inProcess: readonly string[],
): Promise<{ result: PipelineResult; stderr: string; ended: string[] }> {
  const ended: string[] = [];
  let stderr = '';
  const sink = new Writable({ write: (c: Buffer, _e, done) => ((stderr += c.toString()), done()) });
  const before = process.cwd();
  process.chdir(repo);
  try {
    const result = await runPipeline({
      repoRoot: repo,
      log: memoryLogger(),
      stdout: sink,
      stderr: sink,
      inProcess,
      onStageEnd: (r) => ended.push(`${r.name}:${r.status}`),
    });
    return { result, stderr, ended };
  } finally {
    process.chdir(before);
  }
}

const pids = async (repo: string): Promise<Map<string, number>> =>
  new Map(
    (await readFile(join(repo, 'runs.log'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => [l.split(' ')[0], Number(l.split(' ')[1])] as const),
  );

test('hosted stages run in this process and leave the same outputs and dvc.lock as stage processes', async () => {
  const spawned = await makeRepo('hello\n');
  const hosted = await makeRepo('hello\n');
  const s = await run(spawned, []);
  const h = await run(hosted, HOSTABLE);
  assert.deepEqual(
    h.result.stages.map((x) => `${x.name}:${x.status}`),
    ['a:ran', 'b:ran', 'c:ran'],
  );
  assert.deepEqual(
    s.result.stages.map((x) => x.status),
    h.result.stages.map((x) => x.status),
  );
  for (const f of ['dvc.lock', 'a.txt', 'b.txt', 'c.txt'])
    assert.equal(await readFile(join(hosted, f), 'utf8'), await readFile(join(spawned, f), 'utf8'), f);
  const hostedPids = await pids(hosted);
  for (const stage of ['a', 'b', 'c']) assert.equal(hostedPids.get(stage), process.pid, `${stage} ran in this process`);
  for (const [stage, pid] of await pids(spawned)) assert.notEqual(pid, process.pid, `${stage} ran as a command`);
  // A hosted stage's log lines go where a command's stderr would.
  assert.match(h.stderr, /\[b\] b wrote its output\n/);
  assert.match(h.stderr, /\[b\] done in \d/);
  // Up to date afterwards, exactly as after the spawned run.
  const again = await run(hosted, HOSTABLE);
  assert.deepEqual(
    again.result.stages.map((x) => x.status),
    ['skipped', 'skipped', 'skipped'],
  );
});

test('a hosted stage that fails stops the pipeline with the message a failing command gives, keeping finished stages', async () => {
  const outcomes = [];
  for (const inProcess of [[], HOSTABLE]) {
    const repo = await makeRepo('boom\n');
    const { result, stderr, ended } = await run(repo, inProcess);
    // Each result is announced as it settles (npm start loads the API's model once register is done).
    assert.deepEqual(ended, ['a:ran', 'b:failed', 'c:not-run']);
    const lock = await readFile(join(repo, 'dvc.lock'), 'utf8');
    assert.match(stderr, /^\[b\] ERROR: b failed: the input says BOOM; remove it$/m);
    assert.equal(await readFile(join(repo, 'a.txt'), 'utf8'), 'BOOM\n');
    assert.match(lock, /^ {2}a:$/m);
    assert.doesNotMatch(lock, /^ {2}b:$/m);
    outcomes.push({
      ok: result.ok,
      failed: result.failed,
      stages: result.stages.map((x) => ({ name: x.name, status: x.status, error: x.error, exitCode: x.exitCode })),
      lock,
      // What a person sees: the same lines, whichever way the stage ran.
      stderr: stderr.replace(/done in [\d.]+ s {2}cpu_s=[\d.]+/g, 'done in …'),
    });
  }
  assert.deepEqual(outcomes[1], outcomes[0]);
  assert.equal(outcomes[1].failed, 'b');
  assert.deepEqual(outcomes[1].stages[1], {
    name: 'b',
    status: 'failed',
    error: 'command exited with code 1: node --import tsx stages/b.ts',
    exitCode: 1,
  });
  assert.equal(outcomes[1].stages[2].status, 'not-run');
});

test('a hosted script that does not hand its main over fails the stage instead of running twice', async () => {
  const repo = await makeRepo(
    '',
    'stages:\n  plain:\n    cmd: node --import tsx stages/plain.ts\n    outs:\n    - plain.txt\n',
  );
  const { result } = await run(repo, HOSTABLE);
  assert.equal(result.failed, 'plain');
  assert.match(result.stages[0].error ?? '', /stages\/plain\.ts is hosted in-process but did not hand its main over/);
  assert.equal(await readFile(join(repo, 'plain.txt'), 'utf8'), 'plain');
});

test('only a bare `node --import tsx <listed entry>` in this directory and environment is hosted', () => {
  const repoRoot = process.cwd();
  const base = { cwd: repoRoot, repoRoot, inProcess: ['stages/a.ts'] };
  assert.equal(hostableEntry('node --import tsx stages/a.ts', base), 'stages/a.ts');
  assert.equal(hostableEntry('  node --import tsx ./stages/a.ts ', base), 'stages/a.ts');
  assert.equal(hostableEntry('node --import tsx stages/a.ts', { ...base, env: process.env }), 'stages/a.ts');
  assert.equal(hostableEntry('node --import tsx stages/a.ts --params other.yaml', base), undefined);
  assert.equal(hostableEntry('node --import tsx stages/b.ts', base), undefined);
  assert.equal(hostableEntry('node --import tsx stages/a.ts', { ...base, inProcess: [] }), undefined);
  assert.equal(hostableEntry('node --import tsx stages/a.ts', { ...base, env: { ...process.env } }), undefined);
  assert.equal(hostableEntry('node --import tsx a.ts', { ...base, cwd: join(repoRoot, 'stages') }), undefined);
  assert.equal(hostableEntry('DEBUG=1 node --import tsx stages/a.ts', base), undefined);
});

test('the product hosts every dvc.yaml stage script unless PIPELINE_IN_PROCESS=0', () => {
  assert.deepEqual(productStageEntries({}), [
    'training/stages/validate.ts',
    'training/stages/prepare.ts',
    'training/stages/train.ts',
    'training/stages/evaluate.ts',
    'training/stages/register.ts',
    'training/stages/report.ts',
  ]);
  assert.deepEqual(productStageEntries({ PIPELINE_IN_PROCESS: '0' }), []);
});
