import type { Server } from 'node:http';
import { startAdminServer } from '../../coordinator/admin-server';
import { freePort } from '../../local/ports';
import { malformedBattery, malformedPaths, sendRaw, statusOf } from '../helpers/malformed';

/**
 * The coordinator's admin port (4001-4003 under `npm start`) in-process: a request
 * target that is no valid URL (`//`, `//[`) must be a 400, not an exception thrown in
 * an event handler (which ends the coordinator), and nothing of the malformed battery
 * may take it down.
 */
describe('coordinator admin server: malformed requests', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    server = await startAdminServer(port, {
      'GET /health': async () => ({ status: 200, body: { ok: true } }),
      'POST /echo': async (req) => ({ status: 200, body: req.body ?? null }),
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test.each(['//', '//[', '//a:b@[::1'])('GET %s answers 400 invalid_request', async (target) => {
    const answer = await sendRaw(
      port,
      Buffer.from(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    );
    expect(statusOf(answer)).toBe(400);
    expect(answer).toContain('"invalid_request"');
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });

  test('the whole malformed battery leaves it serving', async () => {
    for (const p of malformedBattery([...malformedPaths(), '/echo'])) {
      const status = statusOf(await sendRaw(port, p.bytes));
      if (status !== undefined)
        expect({ probe: p.name, status: status < 500 }).toEqual({ probe: p.name, status: true });
    }
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });
});
