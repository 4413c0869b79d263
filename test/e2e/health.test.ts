import { findFreePortRange } from '../../local/ports';
import { type TestOffline, startTestOffline } from '../helpers/stack';

describe('GET /health through serverless-offline', () => {
  let offline: TestOffline;
  let deadOffline: TestOffline;
  beforeAll(async () => {
    const deadPort = await findFreePortRange(1);
    [offline, deadOffline] = await Promise.all([
      startTestOffline(),
      startTestOffline({}, `127.0.0.1:${deadPort}`),
    ]);
  }, 120000);
  afterAll(async () => {
    await Promise.all([offline?.stop(), deadOffline?.stop()]);
  });

  test('answers 200 with a request id when Redis Cluster is reachable', async () => {
    const res = await fetch(`${offline.httpUrl}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const body = (await res.json()) as { status: string; redis: string };
    expect(body).toMatchObject({ status: 'ok', redis: 'ok' });
  });

  test('keeps a caller-supplied request id', async () => {
    const res = await fetch(`${offline.httpUrl}/health`, { headers: { 'x-request-id': 'req-abc' } });
    expect(res.headers.get('x-request-id')).toBe('req-abc');
  });

  test('answers 503 with the error envelope and Retry-After when Redis is unreachable', async () => {
    const res = await fetch(`${deadOffline.httpUrl}/health`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('unavailable');
    expect(body.error.message).not.toMatch(/at .*\.js/); // never a stack trace
  });
});
