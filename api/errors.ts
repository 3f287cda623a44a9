/** Errors that become a specific HTTP answer: `{ error: { code, message, details? } }`. */
import { shortName } from '../core/data/records.ts';

export interface ErrorDetail {
  field: string;
  message: string;
  instance?: number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) =>
  new HttpError(400, 'invalid_request', message, details);

/** An error answer never exceeds this many bytes, whatever the request held. */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;
const MAX_MESSAGE = 2000;
const MAX_DETAIL_MESSAGE = 300;

const cut = (text: string, max: number) => (text.length > max ? text.slice(0, max - 3) + '...' : text);

/**
 * The JSON answer for an HttpError, bounded: messages and echoed field names are cut, and details
 * are listed while they fit in MAX_ERROR_BODY_BYTES (`details_omitted` counts the rest).
 */
export function errorBody(err: HttpError): {
  error: { code: string; message: string; details?: ErrorDetail[]; details_omitted?: number };
} {
  const message = cut(err.message, MAX_MESSAGE);
  if (!err.details) return { error: { code: err.code, message } };
  let budget = MAX_ERROR_BODY_BYTES - 256 - Buffer.byteLength(JSON.stringify({ code: err.code, message }));
  const details: ErrorDetail[] = [];
  for (const d of err.details) {
    const item: ErrorDetail = {
      ...(d.instance !== undefined ? { instance: d.instance } : {}),
      field: shortName(d.field),
      message: cut(d.message, MAX_DETAIL_MESSAGE),
    };
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (size > budget) break;
    budget -= size;
    details.push(item);
  }
  const omitted = err.details.length - details.length;
  return { error: { code: err.code, message, details, ...(omitted ? { details_omitted: omitted } : {}) } };
}
