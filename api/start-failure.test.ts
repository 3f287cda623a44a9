/**
 * `npm run serve` that cannot listen says why and how to fix it in the API's JSON log format,
 * exits 1, and with WORKERS > 1 does not fork replacement workers that fail the same way forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { registryWithVersions } from '../harness/testing/api/support.ts';
import { startFailure } from './server.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function serve(env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'api/server.ts'],
      { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err.code as number | null) ?? null) : 0, stdout, stderr }),
    );
  });
}

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as { port: number }).port, server };
}

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('a port in use: one JSON error line that says so and how to choose another (PORT=…), exit 1; also with WORKERS=2', async () => {
  const { url } = await registryWithVersions([1]);
  const { port, server } = await occupiedPort();
  try {
    for (const workers of ['1', '2']) {
      const r = await serve({
        PORT: String(port),
        HOST: '127.0.0.1',
        REGISTRY_URL: url,
        WORKERS: workers,
        LOG_FORMAT: 'json',
      });
      assert.equal(r.code, 1, `WORKERS=${workers}: ${r.stdout}${r.stderr}`);
      const errors = jsonLines(r.stdout + r.stderr).filter((l) => l.level === 'error');
      const cause = errors.find((l) => l.component === 'api');
      assert.ok(cause, `WORKERS=${workers}: no error line from the api: ${r.stderr}`);
      assert.equal(typeof cause.time, 'string');
      assert.match(String(cause.msg), new RegExp(`^api failed to start: port ${port} is already in use`));
      assert.equal(cause.code, 'EADDRINUSE');
      assert.match(String(cause.fix), new RegExp(`PORT=${port + 1} npm run serve`));
      // The workers are not replaced in a loop: one error per worker at most.
      assert.ok(errors.filter((l) => l.component === 'api').length <= Number(workers), r.stderr);
      assert.doesNotMatch(r.stdout, /starting a new one/);
    }
  } finally {
    server.close();
  }
});

test('startFailure: a port not allowed and a host not of this machine say what to set; anything else keeps its message', () => {
  const err = (code: string, syscall: string) =>
    Object.assign(new Error(`${syscall} ${code}`), { code, syscall, address: '10.9.8.7', port: 80 });
  assert.match(startFailure(err('EACCES', 'listen')).fields.fix as string, /port above 1023/);
  assert.match(startFailure(err('EADDRNOTAVAIL', 'listen')).msg, /HOST 10\.9\.8\.7 is not an address of this machine/);
  assert.deepEqual(startFailure(new Error('API_TOKENS is set but holds no token')), {
    msg: 'api failed to start: API_TOKENS is set but holds no token',
    fields: {},
  });
});
