import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../core/platform/log.ts';
import { formatStatus, main } from './cli.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

async function repoWithData(): Promise<string> {
  const repo = await tempDir('dvc-cli-');
  await mkdir(join(repo, 'data'));
  await writeFile(join(repo, 'data', 'a.txt'), 'hello\n');
  return repo;
}

test('init, add, status, push, pull through the CLI', async () => {
  const repo = await repoWithData();
  let out = '';
  const io = { log: memoryLogger(), cwd: repo, write: (t: string) => void (out += t) };
  assert.equal(await main(['init'], io), 0);
  assert.equal(await main(['add', 'data'], io), 0);
  assert.match(await readFile(join(repo, 'data.dvc'), 'utf8'), /path: data\n$/);
  assert.equal(await main(['status'], io), 0);
  assert.match(out, /^path\s+workspace\s+cache\s+remote\s+recorded in\ndata\s+ok\s+ok\s+2 missing\s+data\.dvc\n$/);
  assert.equal(await main(['push', '-j', '2'], io), 0);
  await rm(join(repo, 'data'), { recursive: true });
  out = '';
  assert.equal(await main(['status', '--json', '--no-cloud'], io), 0);
  assert.equal(JSON.parse(out)[0].workspace, 'missing');
  assert.equal(await main(['pull'], io), 0);
  assert.equal(await readFile(join(repo, 'data', 'a.txt'), 'utf8'), 'hello\n');
});

test('CLI usage errors exit 2 and failures exit 1, with `data: <message>` on stderr', async () => {
  const repo = await repoWithData();
  let err = '';
  const io = { log: memoryLogger(), cwd: repo, write: () => {}, stderr: (t: string) => void (err += t) };
  const usageError = async (argv: string[], message: RegExp) => {
    err = '';
    assert.equal(await main(argv, io), 2, argv.join(' '));
    assert.match(err, message, argv.join(' '));
    assert.match(err, /\nusage: npm run data:push \| data:pull \| data:status .* {2}\(see --help\)\n$/);
  };
  await usageError([], /^data: no command given/);
  await usageError(['frobnicate'], /^data: unknown command "frobnicate"/);
  await usageError(['push', '--jobs', 'zero'], /^data: --jobs must be a whole number ≥ 1, got "zero"/);
  await usageError(['push', '--bogus'], /^data: unknown option '--bogus'/);
  // A missing path is a usage error (it was exit 1 before the shared CLI convention).
  await usageError(['add'], /^data: add needs a path/);
  err = '';
  assert.equal(await main(['push', '-r', 'nowhere'], io), 1);
  assert.match(err, /^data: push failed: .*remote 'nowhere' is not configured/);
  let out = '';
  assert.equal(await main(['status', '--help'], { ...io, write: (t: string) => void (out += t) }), 0);
  assert.match(out, /^usage: npm run data:push/);
});

test('formatStatus renders unknowns and empty repositories', () => {
  assert.match(formatStatus([]), /nothing is tracked/);
  assert.equal(
    formatStatus([
      {
        path: 'data',
        origin: 'data.dvc',
        md5: 'x',
        workspace: 'missing',
        objects: null,
        notInCache: null,
        notInRemote: null,
      },
    ]),
    'path  workspace  cache  remote  recorded in\ndata  missing    ?      ?       data.dvc',
  );
});

test('status says when the pipeline has not run on the data data.dvc now records, naming the stage and why', async () => {
  const repo = await repoWithData();
  const log = memoryLogger();
  const io = { log, cwd: repo, write: () => {} };
  assert.equal(await main(['init'], io), 0);
  assert.equal(await main(['add', 'data'], io), 0);
  await writeFile(
    join(repo, 'dvc.yaml'),
    "stages:\n  count:\n    cmd: node -e \"require('fs').writeFileSync('n.txt', String(require('fs').readdirSync('data').length))\"\n    deps:\n      - data\n    outs:\n      - n.txt\n",
  );
  const { runPipeline } = await import('../pipeline/runner.ts');
  assert.equal((await runPipeline({ repoRoot: repo, log: memoryLogger() })).ok, true);
  const behind = (l: string) => /the pipeline's results are behind its inputs/.test(l);
  assert.equal(await main(['status', '--no-cloud'], io), 0);
  assert.equal(log.lines.some(behind), false, 'the stage ran on this data');
  // The data grows and is recorded (ingest does both), while dvc.lock still has the old run.
  await writeFile(join(repo, 'data', 'b.txt'), 'more\n');
  assert.equal(await main(['add', 'data'], io), 0);
  assert.equal(await main(['status', '--no-cloud'], io), 0);
  const line = log.lines.find(behind);
  assert.ok(line, log.lines.join('\n'));
  assert.match(line, /stage 'count' \(dep 'data' [^)]*\) would rerun; `npm run pipeline` reruns them/);
});
