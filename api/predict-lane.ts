/**
 * The predict lane: `POST /predict` and `POST /v1/models/<name>:predict` answered from Node's
 * request listener without a Koa context. They run the same steps, in the same order, with the same
 * functions as every route the Koa app answers (observe → auth → bounded body → route; app.ts):
 * the same request id, error answers, metrics, summary and debug line (middleware/observe.ts
 * `requestObserver`), the same bearer check, body limits and handlers. What is left out is only
 * Koa's per-request machinery: a context, request and response object, the finished-listeners and
 * the setters that build headers one by one. On this machine that machinery cost about 10 µs of
 * CPU per request (a bare Node server answering the same JSON: 17–20 µs; the same in Koa: 28–32 µs),
 * as much as the model and everything the API adds around it together (docs/benchmarks.md).
 * Every other method or path (HEAD, OPTIONS, a 405, the V2 route, feedback) goes to Koa as before.
 * A step added to the Koa app for every route (a new middleware in app.ts) must be added here too;
 * predict-lane.test.ts compares the two paths' answers and counted metrics case by case.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonBody } from './middleware/body.ts';
import { authorize, type Access, type AccessChecks } from './middleware/auth.ts';
import { clientGoneFrom, requestIdOf, type RequestObserver, type RequestState } from './middleware/observe.ts';
import type { Reply } from './routes/predict.ts';

export interface LaneRoute {
  template: string;
  access: Access;
  handle: (reply: Reply, body: unknown) => Promise<void>;
}

/** Every answer of the lane is JSON: a prediction, or an error body. */
const JSON_TYPE = 'application/json; charset=utf-8';

/** Koa's `ctx.writable`: the answer is not written yet and the socket (if any) still takes bytes. */
const writable = (res: ServerResponse) => !res.writableEnded && (res.socket === null || res.socket.writable);

/**
 * A request listener for the lane's routes: true when it took the request (it answers it), false
 * when the request is for Koa.
 */
export function predictLane(
  routes: readonly LaneRoute[],
  o: RequestObserver,
  checks: AccessChecks,
  bodyLimitBytes: number,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const byPath = new Map(routes.map((r) => [r.template, r]));

  async function answer(route: LaneRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const state: RequestState = { requestId: requestIdOf(req.headers['x-request-id']), route: route.template };
    const reply: Reply = { state, type: JSON_TYPE, body: undefined };
    o.metrics.inFlight.count++;
    let status = 200;
    let failure: unknown;
    let text: string | null = null;
    try {
      authorize(route.access, req.headers, checks);
      const body = await readJsonBody(req, bodyLimitBytes);
      state.bodyBytes = Number(req.headers['content-length']) || 0;
      await route.handle(reply, body);
      text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    } catch (err) {
      failure = err;
    }
    o.metrics.inFlight.count--;
    const gone = clientGoneFrom(req, res, failure);
    if (failure !== undefined) {
      const refusal = o.failure(failure, gone, state);
      if (refusal) {
        status = refusal.status;
        text = JSON.stringify(refusal.body);
      }
    }
    // Busy keep-alive clients learn of the shutdown from their next answer (observe.ts).
    const draining = o.draining();
    o.done(state, 'POST', status, gone, (performance.now() - started) / 1000);
    if (text === null || !writable(res)) return;
    const headers = [
      'X-Request-Id',
      state.requestId,
      'X-Content-Type-Options',
      'nosniff',
      'Content-Type',
      JSON_TYPE,
      'Content-Length',
      String(Buffer.byteLength(text)),
    ];
    if (draining) headers.push('Connection', 'close');
    res.writeHead(status, headers);
    res.end(text);
  }

  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const route = byPath.get(query < 0 ? url : url.slice(0, query));
    if (!route) return false;
    answer(route, req, res).catch((err: unknown) => {
      // Not reached by any known input (every step above answers its own errors); if it is, the
      // error is logged as observe logs an unhandled one, and the client is not left waiting.
      o.failure(err, false, { requestId: 'lane', route: route.template });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
    return true;
  };
}
