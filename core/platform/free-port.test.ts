import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { freePort } from './free-port.ts';

test('freePort returns a port a server can then listen on at 127.0.0.1', async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `port ${port}`);
  const server = createServer().listen(port, '127.0.0.1');
  await once(server, 'listening');
  assert.equal((server.address() as { port: number }).port, port);
  server.close();
  await once(server, 'close');
});
