import type { Server } from 'node:http';
import { connect } from 'node:net';
import { startAdminServer } from '../../coordinator/admin-server';

/** Sends raw bytes to the server and resolves with the status line of the answer. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let data = '';
    s.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('\r\n')) {
        s.destroy();
        resolve(data.split('\r\n')[0]!);
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`connection closed without an answer: ${JSON.stringify(data)}`)));
    s.setTimeout(2000, () => {
      s.destroy();
      reject(new Error('no answer within 2 s'));
    });
  });
}

describe('coordinator admin server', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = await startAdminServer(0, { 'GET /ok': async () => ({ status: 200, body: { ok: true } }) });
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers a malformed request target with 400 and keeps serving', async () => {
    expect(await raw(port, 'GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    const res = await fetch(`http://127.0.0.1:${port}/ok`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
