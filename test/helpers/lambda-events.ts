import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** An HTTP API v2 handler, called in-process by handler-level tests. */
export type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** A synthetic HTTP API v2 event, as API Gateway (or serverless-offline) would send it. */
export function httpEvent(
  method: string,
  path: string,
  opts: {
    body?: unknown;
    headers?: Record<string, string>;
    sourceIp?: string;
    params?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const { body } = opts;
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    ...(opts.params ? { pathParameters: opts.params } : {}),
    requestContext: {
      accountId: 'offline',
      apiId: 'offline',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: opts.sourceIp ?? '127.0.0.1',
        userAgent: 'jest',
      },
      requestId: randomUUID(),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies ad hoc
  body: any;
  headers: Record<string, unknown>;
}

/** Calls a handler and parses its JSON answer. */
export async function invoke(h: Handler, ev: APIGatewayProxyEventV2): Promise<Reply> {
  const res = await h(ev);
  return {
    status: res.statusCode ?? 0,
    body: res.body ? JSON.parse(res.body) : undefined,
    headers: res.headers ?? {},
  };
}
