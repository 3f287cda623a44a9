import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../core/platform/log.ts';
import { main } from './cli.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

test('pipeline CLI: summary table, --dry, --json, exit codes', async () => {
  const repo = await tempDir('pipeline-cli-');
  await writeFile(
    join(repo, 'dvc.yaml'),
    `stages:
  hello:
    cmd: node -e "require('fs').writeFileSync('out.txt','hi')"
    outs:
    - out.txt
  broken:
    cmd: node -e "process.exit(4)"
    deps:
    - out.txt
`,
  );
  let out = '';
  const io = { log: memoryLogger(), cwd: repo, write: (t: string) => void (out += t) };
  assert.equal(await main(['hello', '--dry'], io), 0);
  assert.match(out, /hello\s+would-run\s+-\s+no entry in dvc\.lock yet/);
  out = '';
  assert.equal(await main(['hello'], io), 0);
  assert.match(out, /^stage\s+status\s+duration\s+details\nhello\s+ran\s/);
  assert.equal(await readFile(join(repo, 'out.txt'), 'utf8'), 'hi');
  out = '';
  assert.equal(await main(['--json'], io), 1);
  const result = JSON.parse(out);
  assert.equal(result.failed, 'broken');
  assert.equal(result.stages[1].exitCode, 4);
  assert.equal(await main(['--nope'], io), 2);
  assert.equal(await main(['missing-stage'], io), 2, 'a stage dvc.yaml lacks is a usage error');
  const empty = await tempDir('pipeline-cli-empty-');
  assert.equal(await main([], { ...io, cwd: empty }), 1);
});
