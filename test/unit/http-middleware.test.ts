import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { parseTrustedProxies } from '../../functions/lib/client-address';
import { clientAddress, httpHandler, MAX_BODY_BYTES } from '../../functions/lib/http';
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

  test('a write refused by a node that came back as a replica (READONLY) is 503, not 500', async () => {
    const demoted = httpHandler('POST /z', async () => {
      throw new Error("READONLY You can't write against a read only replica.");
    });
    const res = await demoted(event());
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('1');
  });

  test('a command whose cluster retries ran out during a failover is 503, not 500', async () => {
    // The message ioredis gave (seen in the Redis-failover test) when a command was
    // retried through a failover until maxRedirections and the last answer was NOSCRIPT.
    const inFlux = httpHandler('POST /z', async () => {
      throw new Error(
        'Too many Cluster redirections. Last error: ReplyError: NOSCRIPT No matching script. Please use EVAL.',
      );
    });
    const res = await inFlux(event());
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('1');
  });
});

describe('client address (X-Forwarded-For only from a trusted proxy)', () => {
  const trusted = parseTrustedProxies('127.0.0.2, 10.1.0.0/16, ::1');
  const from = (sourceIp: string, xff?: string): APIGatewayProxyEventV2 =>
    event({
      headers: xff === undefined ? {} : { 'X-Forwarded-For': xff },
      requestContext: {
        http: { method: 'GET', path: '/x', sourceIp },
        requestId: 'r',
      } as APIGatewayProxyEventV2['requestContext'],
    });

  test('a direct client cannot spoof its address with X-Forwarded-For', () => {
    expect(clientAddress(from('203.0.113.9', '1.2.3.4'), trusted)).toBe('203.0.113.9');
    expect(clientAddress(from('127.0.0.1', '1.2.3.4'), trusted)).toBe('127.0.0.1');
  });

  test("behind the trusted proxy, the browser's address is the client address", () => {
    expect(clientAddress(from('127.0.0.2', '198.51.100.7'), trusted)).toBe('198.51.100.7');
    expect(clientAddress(from('::ffff:127.0.0.2', '198.51.100.7'), trusted)).toBe('198.51.100.7');
    // Read from the right: what a client prepended is not believed, further proxies are skipped.
    expect(clientAddress(from('127.0.0.2', '6.6.6.6, 198.51.100.7'), trusted)).toBe('198.51.100.7');
    expect(clientAddress(from('127.0.0.2', '6.6.6.6, 198.51.100.7, 10.1.2.3'), trusted)).toBe('198.51.100.7');
    // Garbage in the header ends the chain at the last trusted hop.
    expect(clientAddress(from('127.0.0.2', 'not-an-ip'), trusted)).toBe('127.0.0.2');
    expect(clientAddress(from('127.0.0.2'), trusted)).toBe('127.0.0.2');
  });

  test('the middleware hands the client address to the route as sourceIp', async () => {
    const before = process.env['TRUSTED_PROXIES'];
    process.env['TRUSTED_PROXIES'] = '127.0.0.2';
    try {
      let seen = '';
      await jest.isolateModulesAsync(async () => {
        const http = await import('../../functions/lib/http');
        const h = http.httpHandler('GET /x', async (req) => {
          seen = req.sourceIp;
          return { status: 200, body: {} };
        });
        await h(from('127.0.0.2', '198.51.100.7'));
      });
      expect(seen).toBe('198.51.100.7');
    } finally {
      if (before === undefined) delete process.env['TRUSTED_PROXIES'];
      else process.env['TRUSTED_PROXIES'] = before;
    }
  });

  test('TRUSTED_PROXIES refuses entries that are not addresses', () => {
    expect(() => parseTrustedProxies('localhost')).toThrow(/TRUSTED_PROXIES/);
    expect(() => parseTrustedProxies('10.0.0.0/99')).toThrow(/prefix/);
  });
});
