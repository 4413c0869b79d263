import { isWarmUp } from '../../shared/warm-up';
import { withDeadline } from '../../shared/deadline';
import { loadSettings } from '../../shared/settings/load';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ApiError, toEnvelope, unavailable } from '../../shared/errors';
import { createLogger, errorFields } from '../../shared/logger';
import { clientAddress } from './client-address';

export { clientAddress } from './client-address';

/**
 * The one middleware layer every HTTP function shares: request id, body size limit,
 * JSON parsing, one structured log line per request (route, status, latency) and the
 * mapping of errors to API.md's envelope. A stack trace never reaches a client.
 */
export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpRequest {
  requestId: string;
  method: string;
  path: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  query: Record<string, string>;
  params: Record<string, string>;
  /** Parsed JSON body; undefined when there was none. */
  body: unknown;
  /**
   * The client's address ({@link clientAddress}): the direct peer, or what a trusted
   * proxy (TRUSTED_PROXIES) put in X-Forwarded-For. Per-address limits key on it.
   */
  sourceIp: string;
}

export interface HttpResult {
  status: number;
  body?: unknown;
  /** A body sent as is instead of JSON (e.g. NDJSON); set its content-type in `headers`. */
  raw?: string;
  headers?: Record<string, string>;
}

export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const log = createLogger({ component: 'http' });

/**
 * True for errors that mean "Redis is not reachable right now, or its cluster is in
 * flux" (→ 503, retry): connection loss, a failover under way (CLUSTERDOWN, MOVED,
 * READONLY, "Too many Cluster redirections" once ioredis used up its retries).
 */
export function isUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return /Connection is closed|ECONNREFUSED|ETIMEDOUT|Command timed out|CLUSTERDOWN|TRYAGAIN|Failed to refresh slots cache|None of startup nodes is available|MaxRetriesPerRequest|Stream isn't writeable|enableOfflineQueue|MOVED|READONLY|LOADING|MASTERDOWN|Too many Cluster redirections|timed out/i.test(
    err.message,
  );
}

function lowerHeaders(h: APIGatewayProxyEventV2['headers'] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

function parseBody(
  event: APIGatewayProxyEventV2,
  headers: Record<string, string>,
  maxBytes: number = MAX_BODY_BYTES,
): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  // API Gateway always sends text, but serverless-offline hands a JSON body that parses
  // to `false` or `0` over as that value: turn it back into its text (else a 500).
  const body: string = typeof event.body === 'string' ? event.body : JSON.stringify(event.body);
  const raw = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (raw.length > maxBytes) {
    throw new ApiError(413, 'payload_too_large', `Request body exceeds ${maxBytes} bytes`);
  }
  const type = headers['content-type'] ?? 'application/json';
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json');
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_request', 'Request body is not valid JSON');
  }
}

function respond(
  status: number,
  body: unknown,
  requestId: string,
  extra?: Record<string, string>,
  raw?: string,
) {
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/json',
      'x-request-id': requestId,
      'cache-control': 'no-store',
      'access-control-allow-origin': '*',
      ...extra,
    },
    body: raw ?? (body === undefined ? '' : JSON.stringify(body)),
  };
}

/**
 * A request that cannot finish in time (Redis unreachable: ioredis queues commands
 * while it reconnects) answers 503 with Retry-After instead of hanging until the Lambda
 * timeout. Every write behind a route is idempotent, so a client retry is safe.
 */
export const REQUEST_DEADLINE_MS = loadSettings().REQUEST_DEADLINE_MS;

/** Wraps a route implementation into a Lambda handler (HTTP API v2 events). */
export function httpHandler(
  route: string,
  fn: (req: HttpRequest) => Promise<HttpResult>,
  /** `maxBodyBytes`: a larger body limit for the rare route that needs one (a voter-roll import). */
  options: { maxBodyBytes?: number } = {},
): HttpHandler {
  return async (raw) => {
    if (isWarmUp(raw)) return respond(204, undefined, 'warm-up');
    const started = performance.now();
    // A direct invoke can hand over anything (null, an array): never throw on its shape.
    const event = (raw !== null && typeof raw === 'object' ? raw : {}) as APIGatewayProxyEventV2;
    const headers = lowerHeaders(
      event.headers !== null && typeof event.headers === 'object' ? event.headers : undefined,
    );
    const requestId = (headers['x-request-id'] ?? '').slice(0, 100) || randomUUID();
    let status = 500;
    try {
      const req: HttpRequest = {
        requestId,
        method: event.requestContext?.http?.method ?? 'GET',
        path: event.rawPath ?? '',
        headers,
        query: Object.fromEntries(
          Object.entries(event.queryStringParameters ?? {}).filter(
            (e): e is [string, string] => e[1] !== undefined,
          ),
        ),
        params: Object.fromEntries(
          Object.entries(event.pathParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
        ),
        body: undefined,
        sourceIp: clientAddress(event),
      };
      req.body = parseBody(event, headers, options.maxBodyBytes);
      const result = await withDeadline(fn(req), REQUEST_DEADLINE_MS, () => unavailable());
      status = result.status;
      return respond(result.status, result.body, requestId, result.headers, result.raw);
    } catch (err) {
      let apiErr: ApiError;
      if (err instanceof ApiError) apiErr = err;
      else if (isUnavailableError(err)) apiErr = unavailable();
      else {
        log.error('unhandled error', { route, requestId, ...errorFields(err) });
        apiErr = new ApiError(500, 'internal', 'Internal error');
      }
      status = apiErr.status;
      return respond(apiErr.status, toEnvelope(apiErr), requestId, apiErr.headers);
    } finally {
      log.info('request', {
        route,
        requestId,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };
}
