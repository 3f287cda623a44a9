import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkConsistent, makeProject, runKillTrials, runOk } from './kill-trials.ts';

test('kill trials: ingest and data:push SIGKILLed at seeded moments leave a consistent repository after a re-run', async () => {
  const lines: string[] = [];
  const r = await runKillTrials({ trials: 2, log: (m) => lines.push(m) });
  assert.equal(r.total, 2);
  assert.equal(r.details.length, 2);
  assert.match(r.details[0], /^trial 1 ingest (killed|finished before the kill) \d+ ms after its first write: /);
  assert.match(r.details[1], /^trial 2 push /);
  assert.equal(r.consistent, 2, r.details.join('\n'));
  assert.ok(lines.length >= 3, 'progress is logged');
});

test('the consistency check finds a stale data.dvc, a leftover temporary file and a corrupted remote object', async () => {
  const project = await makeProject();
  try {
    await runOk(project, 'ingest');
    await runOk(project, 'push');
    assert.deepEqual(await checkConsistent(project, 'push'), []);
    const dvc = join(project, 'data.dvc');
    await writeFile(
      dvc,
      (await readFile(dvc, 'utf8')).replace(/md5: [0-9a-f]{32}\.dir/, 'md5: 00000000000000000000000000000000.dir'),
    );
    await writeFile(join(project, 'data', '.manifest.json.tmp-1-0000000000000000'), '{');
    await mkdir(join(project, '.dvc', 'cache', 'files', 'md5', 'aa'), { recursive: true });
    await writeFile(join(project, '.dvc', 'cache', 'files', 'md5', 'aa', '.bbbb.tmp-1-0000000000000000'), 'x');
    const shard = join(project, '.dvc-remote', 'files', 'md5');
    const dir = (await readdir(shard))[0];
    const object = join(shard, dir, (await readdir(join(shard, dir)))[0]);
    await chmod(object, 0o644);
    await writeFile(object, 'corrupted');
    const problems = (await checkConsistent(project, 'push')).join('\n');
    assert.match(problems, /data\.dvc records 00000000000000000000000000000000\.dir, the store is [0-9a-f]{32}\.dir/);
    assert.match(problems, /temporary files left: .*\.dvc\/cache\/files\/md5\/aa\/\.bbbb\.tmp-1-0000000000000000/);
    assert.match(problems, /temporary files left: .*data\/\.manifest\.json\.tmp-1-0000000000000000/);
    assert.match(problems, /remote object [0-9a-f]{32}(\.dir)? hashes to [0-9a-f]{32}/);
  } finally {
    await rm(project, { recursive: true, force: true });
  }
});
