/**
 * Outermost middleware: request id, error → JSON answer, metrics and one structured log line per
 * request at debug (at info, request-summary.ts's line per interval counts them). Unknown errors become a 500 with a request id to quote (and are logged with the stack);
 * HttpErrors keep their status and field details. A client that hangs up before its answer is
 * counted as status "499" (nginx's "client closed request") and logged at debug: it is not a
 * server error, and must not burn the availability SLO or page anyone.
 */
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from '../../core/platform/log.ts';
import { HttpError, errorBody } from '../errors.ts';
import { childCache, counterChild, histogramChild, type ApiMetrics } from '../prometheus.ts';
import type { RequestSummary } from './request-summary.ts';

export interface RequestState {
  route: string;
  requestId: string;
  modelVersion?: number;
  bodyBytes?: number;
}

/** The client closed the connection: reading its body failed, or it left while we worked. */
export function clientGone(ctx: Koa.Context, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE')
    return ctx.req.destroyed || ctx.req.socket?.destroyed === true;
  return !ctx.res.headersSent && ctx.req.socket?.destroyed === true;
}

/** Methods kept as label values; anything else a client sends is counted as "other". */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * `draining()` is true once shutdown began: every answer then says `Connection: close`.
 * `summary` counts every request for the info-level line per interval.
 */
export function observe(
  metrics: ApiMetrics,
  log: Logger,
  draining: () => boolean = () => false,
  summary?: RequestSummary,
): Koa.Middleware {
  const requests = childCache((route, method, status) => counterChild(metrics.requests, { route, method, status }));
  const durations = childCache((route, method) => histogramChild(metrics.duration, { route, method }));
  const sizes = childCache((route) => histogramChild(metrics.requestSize, { route }));
  return async (ctx, next) => {
    const started = performance.now();
    const incoming = ctx.get('x-request-id');
    const state = ctx.state as RequestState;
    state.requestId = incoming && incoming.length <= 128 ? incoming : randomUUID();
    state.route = 'unmatched';
    ctx.set('X-Request-Id', state.requestId);
    ctx.set('X-Content-Type-Options', 'nosniff');
    const method = METHODS.has(ctx.method) ? ctx.method : 'other';
    metrics.inFlight.count++;
    let failure: unknown;
    try {
      await next();
    } catch (err) {
      failure = err;
      if (clientGone(ctx, err)) {
        // Nothing can be answered; Koa skips writing to the closed socket.
      } else if (err instanceof HttpError) {
        ctx.status = err.status;
        ctx.body = errorBody(err);
      } else {
        ctx.status = 500;
        ctx.body = {
          error: { code: 'internal', message: `internal error; quote request id ${state.requestId} when reporting it` },
        };
        log.error('unhandled error', {
          request_id: state.requestId,
          route: state.route,
          error: (err as Error).message,
          stack: (err as Error).stack,
        });
      }
    } finally {
      metrics.inFlight.count--;
      const seconds = (performance.now() - started) / 1000;
      const gone = clientGone(ctx, failure);
      const status = gone ? '499' : String(ctx.status);
      requests(state.route, method, status).inc();
      durations(state.route, method).observe(seconds);
      // Busy keep-alive clients learn of the shutdown from their next answer and reconnect
      // elsewhere, instead of being reset when the shutdown timeout closes their socket.
      if (draining()) ctx.set('Connection', 'close');
      if (state.bodyBytes !== undefined) sizes(state.route).observe(state.bodyBytes);
      summary?.add(state.route, status, seconds * 1000);
      // One line per request at debug: only built when it will be written.
      if (log.enabled('debug'))
        log.debug(gone ? 'client closed the connection before the answer' : 'request', {
          request_id: state.requestId,
          method: ctx.method,
          route: state.route,
          status: gone ? 499 : ctx.status,
          duration_ms: Math.round(seconds * 1e4) / 10,
          ...(state.modelVersion !== undefined ? { model_version: state.modelVersion } : {}),
        });
    }
  };
}
