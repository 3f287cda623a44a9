/**
 * The reference ceiling for `npm run bench:api`: a Koa server that does the HTTP and JSON work of
 * a prediction (read a bounded body, parse it, answer JSON of about the same size) and nothing
 * else. The real API's throughput is reported as a ratio of this one, measured in the same run on
 * the same machine, which cancels most of the noise of a shared host.
 *
 * Run: HOST=127.0.0.1 PORT=8081 node --import tsx harness/bench/api/trivial-server.ts
 */
import Koa from 'koa';
import type { IncomingMessage } from 'node:http';
import { isMain } from '../../../core/platform/is-main.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Stand-in answers with the real API's shape and size (191 bytes for one record). */
const PREDICTION = { probability: 0.9440531134605408, label: 1, threshold: 0.3660394847393036 };
const PREDICTION_ID = '00000000-0000-4000-8000-000000000000';
const SINGLE = JSON.stringify({
  model_name: 'flight-delay',
  model_version: 0,
  prediction_id: PREDICTION_ID,
  prediction: PREDICTION,
});

const DEFAULT_RECORD = { date: '2001-01-09T14:35:00.000Z', distance: 733, origin: 'ATL', destination: 'ORD' };
const MODEL_INFO = JSON.stringify({
  name: 'flight-delay',
  version: 0,
  backend: 'none',
  inputs: Object.entries(DEFAULT_RECORD).map(([name, value]) => ({ name, default: value })),
});

async function readBoundedBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function refuse(ctx: Koa.Context, status: number, message: string): void {
  ctx.status = status;
  ctx.body = { error: message };
}

export function createTrivialApp(): Koa {
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.method === 'GET' && (ctx.path === '/readyz' || ctx.path === '/healthz')) {
      ctx.body = { ready: true };
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/v1/models/flight-delay') {
      ctx.type = 'application/json';
      ctx.body = MODEL_INFO;
      return;
    }
    if (ctx.method !== 'POST') return refuse(ctx, 404, 'not found');
    const text = await readBoundedBody(ctx.req, BODY_LIMIT_BYTES);
    if (text === null) return refuse(ctx, 413, 'body too large');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return refuse(ctx, 400, 'body is not JSON');
    }
    ctx.type = 'application/json';
    const instances = (parsed as { instances?: unknown } | null)?.instances;
    ctx.body = Array.isArray(instances)
      ? JSON.stringify({
          model_name: 'flight-delay',
          model_version: 0,
          prediction_ids: instances.map(() => PREDICTION_ID),
          predictions: instances.map(() => PREDICTION),
        })
      : SINGLE;
  });
  return app;
}

if (isMain(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8081);
  const host = process.env.HOST ?? '127.0.0.1';
  const server = createTrivialApp().listen(port, host);
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
  process.once('SIGINT', () => server.close(() => process.exit(0)));
}
