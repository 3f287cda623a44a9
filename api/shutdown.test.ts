import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD, registryWithVersions } from '../harness/testing/api/support.ts';
import { REAL_API_SCRIPT, startServer } from '../harness/bench/api/server-process.ts';
import { keepAliveLoad } from '../harness/adversarial/api/keepalive.ts';

test('SIGTERM under load: 32 busy keep-alive clients each get an answer with Connection: close, none is reset', async () => {
  const { url } = await registryWithVersions([1]);
  const server = await startServer({
    name: 'api',
    script: REAL_API_SCRIPT,
    env: { REGISTRY_URL: url, SHUTDOWN_TIMEOUT_MS: '5000', LOG_LEVEL: 'warn' },
  });
  let exit: Promise<number | null> | undefined;
  const r = await keepAliveLoad({
    url: server.url,
    connections: 32,
    path: '/predict',
    body: JSON.stringify(RECORD),
    stopAfterMs: 1500,
    stop: () => void (exit = server.stop(20_000)),
  });
  assert.equal(await exit, 0, server.output());
  assert.ok(r.answers >= 64, `only ${r.answers} answers before and during shutdown`);
  assert.equal(r.resets, 0, JSON.stringify(r));
  assert.deepEqual(r.otherErrors, {}, JSON.stringify(r));
  assert.equal(r.keepAliveAfterStop, 0, 'every answer after SIGTERM says Connection: close');
  assert.equal(r.closedByServer, 32, JSON.stringify(r));
  assert.deepEqual(Object.keys(r.statuses), ['200']);
});

test('SIGTERM with 32 clients that reconnect after Connection: close: each is served or refused (ECONNREFUSED), none is reset', async () => {
  const { url } = await registryWithVersions([1]);
  const server = await startServer({
    name: 'api',
    script: REAL_API_SCRIPT,
    env: { REGISTRY_URL: url, SHUTDOWN_TIMEOUT_MS: '5000', LOG_LEVEL: 'warn' },
  });
  let exit: Promise<number | null> | undefined;
  const r = await keepAliveLoad({
    url: server.url,
    connections: 32,
    path: '/predict',
    body: JSON.stringify(RECORD),
    stopAfterMs: 1500,
    stop: () => void (exit = server.stop(20_000)),
    reconnect: true,
  });
  assert.equal(await exit, 0, server.output());
  assert.equal(r.resets, 0, JSON.stringify(r));
  assert.equal(r.refused, 32, `every loop ends on a refused connection: ${JSON.stringify(r)}`);
  assert.deepEqual(r.otherErrors, {}, JSON.stringify(r));
  assert.equal(r.stuck, 0, JSON.stringify(r));
  assert.deepEqual(Object.keys(r.statuses), ['200']);
});
