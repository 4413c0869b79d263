/**
 * The one error type for API errors (CONVENTIONS 11): a status, a machine-readable
 * snake_case code and a human message. Handlers map it to API.md's error envelope in
 * one place (functions/lib/http.ts).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string, details?: unknown): ApiError =>
  new ApiError(400, 'invalid_request', message, details);
export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);
export const unauthorized = (message = 'Missing or invalid token'): ApiError =>
  new ApiError(401, 'unauthorized', message);
export const forbidden = (message = 'Not allowed for this role'): ApiError =>
  new ApiError(403, 'forbidden', message);
export const unavailable = (
  message = 'The cluster is unavailable; retry shortly',
  retryAfterS = 1,
): ApiError => new ApiError(503, 'unavailable', message, undefined, { 'Retry-After': String(retryAfterS) });

/** The JSON body every error response carries. */
export interface ErrorEnvelope {
  error: { code: string; message: string; details?: unknown };
}

export function toEnvelope(err: ApiError): ErrorEnvelope {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  };
}
