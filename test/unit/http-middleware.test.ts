import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { httpHandler, MAX_BODY_BYTES } from '../../functions/lib/http';
import { ApiError } from '../../shared/errors';

const event = (over: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'POST /x',
    rawPath: '/x',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/x', sourceIp: '127.0.0.1' }, requestId: 'r' },
    isBase64Encoded: false,
    ...over,
  }) as unknown as APIGatewayProxyEventV2;

describe('HTTP middleware', () => {
  const echo = httpHandler('POST /x', async (req) => ({ status: 200, body: { got: req.body } }));

  test('parses JSON bodies and sets a request id', async () => {
    const res = await echo(event({ body: '{"a":1}' }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body!)).toEqual({ got: { a: 1 } });
    expect(res.headers?.['x-request-id']).toBeTruthy();
  });

  test('malformed JSON → 400 invalid_request', async () => {
    const res = await echo(event({ body: '{nope' }));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body!).error.code).toBe('invalid_request');
  });

  test('bodies over 64 KiB → 413', async () => {
    const res = await echo(event({ body: JSON.stringify({ s: 'x'.repeat(MAX_BODY_BYTES) }) }));
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(res.body!).error.code).toBe('payload_too_large');
  });

  test('ApiError maps to its status and code; unknown errors to a 500 without a stack', async () => {
    const failing = httpHandler('GET /y', async () => {
      throw new ApiError(409, 'already_voted', 'You already voted');
    });
    const res = await failing(event());
    expect(res.statusCode).toBe(409);
    expect(JSON.parse(res.body!)).toEqual({ error: { code: 'already_voted', message: 'You already voted' } });
    const crashing = httpHandler('GET /z', async () => {
      throw new Error('secret internals');
    });
    const res2 = await crashing(event());
    expect(res2.statusCode).toBe(500);
    expect(res2.body).not.toContain('secret internals');
  });

  test('Redis connection errors map to 503 unavailable with Retry-After', async () => {
    const down = httpHandler('GET /z', async () => {
      throw new Error('Connection is closed.');
    });
    const res = await down(event());
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('1');
  });
});
