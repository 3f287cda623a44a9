/**
 * Outermost middleware: request id, error → JSON answer, metrics and one structured log line per
 * request at debug (at info, request-summary.ts's line per interval counts them). Unknown errors become a 500 with a request id to quote (and are logged with the stack);
 * HttpErrors keep their status and field details. A client that hangs up before its answer is
 * counted as status "499" (nginx's "client closed request") and logged at debug: it is not a
 * server error, and must not burn the availability SLO or page anyone.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
export function clientGoneFrom(req: IncomingMessage, res: ServerResponse, err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'ERR_STREAM_PREMATURE_CLOSE')
    return req.destroyed || req.socket?.destroyed === true;
  return !res.headersSent && req.socket?.destroyed === true;
}

export const clientGone = (ctx: Koa.Context, err: unknown): boolean => clientGoneFrom(ctx.req, ctx.res, err);

/** Methods kept as label values; anything else a client sends is counted as "other". */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The request's id: the client's X-Request-Id when it sent a usable one, else a new UUID. */
export function requestIdOf(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && incoming && incoming.length <= 128 ? incoming : randomUUID();
}

/**
 * What observe does around every request, for the Koa middleware below and for the predict lane
 * (../predict-lane.ts), which answers the prediction routes without a Koa context: the answer for
 * a failure, and the metrics, summary and debug line once the request is done.
 */
export interface RequestObserver {
  /** The answer for what a handler threw; null when the client is gone (nothing can be answered). */
  failure(err: unknown, gone: boolean, state: RequestState): { status: number; body: object } | null;
  /** Counts a finished request (status "499" when the client left) and writes its debug line. */
  done(state: RequestState, method: string, status: number, gone: boolean, seconds: number): void;
  /** True once shutdown began: the answer then says `Connection: close`. */
  draining(): boolean;
  metrics: ApiMetrics;
}

/**
 * `draining()` is true once shutdown began: every answer then says `Connection: close`.
 * `summary` counts every request for the info-level line per interval.
 */
export function requestObserver(
  metrics: ApiMetrics,
  log: Logger,
  draining: () => boolean = () => false,
  summary?: RequestSummary,
): RequestObserver {
  const requests = childCache((route, method, status) => counterChild(metrics.requests, { route, method, status }));
  const durations = childCache((route, method) => histogramChild(metrics.duration, { route, method }));
  const sizes = childCache((route) => histogramChild(metrics.requestSize, { route }));
  return {
    metrics,
    draining,
    failure(err, gone, state) {
      // Nothing can be answered to a client that left; Koa skips writing to the closed socket.
      if (gone) return null;
      if (err instanceof HttpError) return { status: err.status, body: errorBody(err) };
      log.error('unhandled error', {
        request_id: state.requestId,
        route: state.route,
        error: (err as Error).message,
        stack: (err as Error).stack,
      });
      return {
        status: 500,
        body: {
          error: { code: 'internal', message: `internal error; quote request id ${state.requestId} when reporting it` },
        },
      };
    },
    done(state, httpMethod, httpStatus, gone, seconds) {
      const method = METHODS.has(httpMethod) ? httpMethod : 'other';
      const status = gone ? '499' : String(httpStatus);
      requests(state.route, method, status).inc();
      durations(state.route, method).observe(seconds);
      if (state.bodyBytes !== undefined) sizes(state.route).observe(state.bodyBytes);
      summary?.add(state.route, status, seconds * 1000);
      // One line per request at debug: only built when it will be written.
      if (log.enabled('debug'))
        log.debug(gone ? 'client closed the connection before the answer' : 'request', {
          request_id: state.requestId,
          method: httpMethod,
          route: state.route,
          status: gone ? 499 : httpStatus,
          duration_ms: Math.round(seconds * 1e4) / 10,
          ...(state.modelVersion !== undefined ? { model_version: state.modelVersion } : {}),
        });
    },
  };
}

/** The outermost Koa middleware: `requestObserver`'s work around every route Koa answers. */
export function observe(o: RequestObserver): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    const state = ctx.state as RequestState;
    state.requestId = requestIdOf(ctx.req.headers['x-request-id']);
    state.route = 'unmatched';
    ctx.set('X-Request-Id', state.requestId);
    ctx.set('X-Content-Type-Options', 'nosniff');
    o.metrics.inFlight.count++;
    let failure: unknown;
    try {
      await next();
    } catch (err) {
      failure = err;
      const answer = o.failure(err, clientGone(ctx, err), state);
      if (answer) {
        ctx.status = answer.status;
        ctx.body = answer.body;
      }
    } finally {
      o.metrics.inFlight.count--;
      // Busy keep-alive clients learn of the shutdown from their next answer and reconnect
      // elsewhere, instead of being reset when the shutdown timeout closes their socket.
      if (o.draining()) ctx.set('Connection', 'close');
      o.done(state, ctx.method, ctx.status, clientGone(ctx, failure), (performance.now() - started) / 1000);
    }
  };
}
