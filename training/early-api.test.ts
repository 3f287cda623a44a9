import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { memoryLogger } from '../core/platform/log.ts';
/** tsx by its own URL: the child runs in a temporary directory, outside this repository's node_modules. */
const TSX = ['--import', import.meta.resolve('tsx')];
import { tempDir } from '../harness/testing/lifecycle.ts';
import { portProblem, startApiEarly } from './early-api.ts';
import { createServer } from 'node:net';

const PARENT_GO = pathToFileURL(join(import.meta.dirname, '../core/platform/parent-go.ts')).href;

test('npm start: the early API gets the environment `npm run serve` would (REGISTER_PROMOTE is the pipeline’s)', async () => {
  const dir = await tempDir('early-api-');
  await writeFile(
    join(dir, 'api.mts'),
    `import { writeFileSync } from 'node:fs';\nimport { waitForParent } from '${PARENT_GO}';\n` +
      `const parent = await waitForParent();\nif (parent) { await parent.go(); writeFileSync('env.json', JSON.stringify({ promote: process.env.REGISTER_PROMOTE ?? null, port: process.env.PORT })); process.exit(0); }\n`,
  );
  const api = startApiEarly({
    repoRoot: dir,
    log: memoryLogger(),
    env: { ...process.env, REGISTER_PROMOTE: 'allow', PORT: '9999' },
    argv: [...TSX, 'api.mts'],
  });
  assert.equal(await api.serve(), 0);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'env.json'), 'utf8')), { promote: null, port: '9999' });
});

test('npm start: an API process that dies while the pipeline runs is reported, and serving fails', async () => {
  const dir = await tempDir('early-api-');
  await writeFile(join(dir, 'api.mts'), `process.exit(0);\n`);
  const log = memoryLogger();
  const api = startApiEarly({ repoRoot: dir, log, argv: [...TSX, 'api.mts'] });
  assert.equal(await api.exited, 0);
  const code = await api.serve();
  assert.equal(code, 1);
  assert.match(log.lines.join('\n'), /the API process ended \(exit 0\) before the pipeline finished/);
});

test('portProblem: a port something listens on is named with the fix before any training; a free one is null', async () => {
  const held = createServer();
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  const port = (held.address() as { port: number }).port;
  try {
    assert.equal(
      await portProblem({ HOST: '127.0.0.1', PORT: String(port) }),
      `port ${port} on 127.0.0.1 is already in use (an earlier \`npm start\` or \`npm run serve\` still running?): stop it, or choose another port: PORT=${port + 1} npm start`,
    );
  } finally {
    await new Promise((resolve) => held.close(resolve));
  }
  assert.equal(await portProblem({ HOST: '127.0.0.1', PORT: String(port) }), null, 'free again');
});
