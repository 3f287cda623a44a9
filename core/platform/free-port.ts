/** A TCP port free on 127.0.0.1 right now (for a server a test, bench or rehearsal is about to start). */
import { createServer } from 'node:net';
import { once } from 'node:events';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw err;
    }),
  ]);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  if (!port) throw new Error('could not obtain a free port on 127.0.0.1');
  return port;
}
