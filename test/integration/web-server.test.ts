import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../local/ports';
import { startWebServer, type WebServer } from '../../local/web-server';
import { malformedBattery, malformedPaths, sendRaw, statusOf } from '../helpers/malformed';

/** A stand-in for the built web app (web/dist): one page. */
function makeDist(): string {
  const dist = mkdtempSync(join(tmpdir(), 'qv-web-dist-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>qv</title>');
  return dist;
}

/**
 * The web server of `npm start` (local/web-server.ts) in-process, in front of a stand-in
 * API (an HTTP server that echoes what it received) and a stand-in WebSocket port (a
 * TCP server that records the upgrade request): malformed requests get a 4xx and never
 * crash it, and the client's address reaches the API in X-Forwarded-For, replacing
 * whatever the client sent.
 */
describe('web server (npm start): malformed requests and X-Forwarded-For', () => {
  let dist: string;
  let api: Server;
  let wsUp: TcpServer;
  let web: WebServer;
  const upgrades: string[] = [];

  beforeAll(async () => {
    dist = makeDist();
    api = createHttpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, headers: req.headers, peer: req.socket.remoteAddress }));
    });
    wsUp = createTcpServer((s) => {
      s.once('data', (c: Buffer) => {
        upgrades.push(c.toString('latin1'));
        s.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      });
      s.on('error', () => {});
    });
    const [httpPort, wsPort, port] = [await freePort(), await freePort(), await freePort()];
    await new Promise<void>((r) => api.listen(httpPort, '127.0.0.1', r));
    await new Promise<void>((r) => wsUp.listen(wsPort, '127.0.0.1', r));
    web = await startWebServer({ port, httpPort, wsPort, dist, proxyAddress: '127.0.0.2' });
  });
  afterAll(async () => {
    await web?.close();
    await new Promise((r) => api?.close(r));
    await new Promise((r) => wsUp?.close(r));
    rmSync(dist, { recursive: true, force: true });
  });

  const alive = async (): Promise<void> => {
    const res = await fetch(`${web.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>qv</title>');
  };

  test('a malformed URL (curl http://127.0.0.1:5173/%) gets 400 with the error envelope, and the server lives on', async () => {
    const answer = await sendRaw(
      web.port,
      Buffer.from('GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    expect(statusOf(answer)).toBe(400);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };
    expect(body.error.code).toBe('invalid_request');
    await alive();
  });

  test('every request of the malformed battery gets an answer or a closed socket, never a crash', async () => {
    const probes = malformedBattery([...malformedPaths(), ...malformedPaths('/api'), '/ws/%', '/assets/%']);
    for (const p of probes) {
      const answer = await sendRaw(web.port, p.bytes);
      const status = statusOf(answer);
      // Whatever it answers, it is no 5xx of its own (a 502 would mean the API is down).
      if (status !== undefined)
        expect({ probe: p.name, status: status < 500 }).toEqual({ probe: p.name, status: true });
    }
    await alive();
  });

  test("the API sees the browser's address in X-Forwarded-For, replacing the client's own", async () => {
    const res = await fetch(`${web.url}/api/elections?x=1`, {
      headers: { 'X-Forwarded-For': '6.6.6.6, 7.7.7.7', 'x-request-id': 'abc' },
    });
    const seen = (await res.json()) as { url: string; headers: Record<string, string>; peer: string };
    expect(seen.url).toBe('/elections?x=1');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-request-id']).toBe('abc');
    // From the proxy's own address, the one the API trusts (TRUSTED_PROXIES).
    expect(seen.peer).toBe('127.0.0.2');
  });

  test('the WebSocket tunnel replaces X-Forwarded-For too', async () => {
    upgrades.length = 0;
    const answer = await sendRaw(
      web.port,
      Buffer.from(
        'GET /ws?token=t HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          'X-Forwarded-For: 6.6.6.6\r\n\r\n',
      ),
    );
    expect(statusOf(answer)).toBe(101);
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]).toMatch(/^GET \/\?token=t HTTP\/1\.1\r\n/);
    expect(upgrades[0]).toContain('X-Forwarded-For: 127.0.0.1\r\n');
    expect(upgrades[0]).not.toContain('6.6.6.6');
  });
});

/**
 * An API server that closes a connection when a second request arrives on it: what a
 * keep-alive connection closed by the server as the proxy reuses it looks like. Each
 * browser request must still get the API's answer, not a 502.
 */
describe('web server (npm start): the API closing a reused connection', () => {
  let dist: string;
  let api: Server;
  let web: WebServer;
  const bodies: string[] = [];

  beforeAll(async () => {
    dist = makeDist();
    const served = new WeakMap<object, number>();
    api = createHttpServer((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n > 1) {
        req.socket.destroy();
        return;
      }
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ n, url: req.url }));
      });
    });
    api.keepAliveTimeout = 60_000;
    const [httpPort, wsPort, port] = [await freePort(), await freePort(), await freePort()];
    await new Promise<void>((r) => api.listen(httpPort, '127.0.0.1', r));
    web = await startWebServer({ port, httpPort, wsPort, dist });
  });
  afterAll(async () => {
    await web?.close();
    api?.closeAllConnections();
    await new Promise((r) => api?.close(r));
    rmSync(dist, { recursive: true, force: true });
  });

  test('ten requests in a row, GET and POST, each get the answer (no 502)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res =
        i % 2
          ? await fetch(`${web.url}/api/elections/e${i}/votes`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ optionId: `o${i}` }),
            })
          : await fetch(`${web.url}/api/elections/e${i}`);
      statuses.push(res.status);
      expect(await res.json()).toEqual({ n: 1, url: i % 2 ? `/elections/e${i}/votes` : `/elections/e${i}` });
    }
    expect(statuses).toEqual(Array(10).fill(200));
    expect(bodies.filter(Boolean)).toEqual([1, 3, 5, 7, 9].map((i) => JSON.stringify({ optionId: `o${i}` })));
  });
});
