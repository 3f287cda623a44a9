/** Errors that become a specific HTTP answer: `{ error: { code, message, details? } }`. */
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

export const badRequest = (message: string, details?: ErrorDetail[]) => new HttpError(400, 'invalid_request', message, details);
