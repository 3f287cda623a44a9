import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

test('replay against an address where no API listens stops at once, naming the URL and the cause', async () => {
  // A port that was just free: nothing listens on it now.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'replay.ts'), '--url', url, '--minutes', '0'],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 1, r.stderr);
  assert.equal(
    r.stderr.trim(),
    `replay: cannot reach the API at ${url} (ECONNREFUSED): is it running? Start it with npm start (or npm run serve), or pass --url`,
  );
});
