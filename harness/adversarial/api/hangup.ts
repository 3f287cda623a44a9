/** A client that opens a connection, sends a POST (all of it or part of the body), then hangs up. */
import { connect } from 'node:net';

export function hangUp(
  url: string,
  opts: { path?: string; body: string; partial: boolean; afterMs: number },
): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST ${opts.path ?? '/predict'} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(opts.body)}\r\n\r\n`,
      );
      socket.write(opts.partial ? opts.body.slice(0, 10) : opts.body);
      setTimeout(() => socket.destroy(), opts.afterMs);
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}
