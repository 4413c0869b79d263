import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { portFree } from './ports';

/**
 * Serves the web app (web/dist) for `npm start`, on one origin with the API:
 *   /api/*  → the HTTP API (serverless-offline), path without the /api prefix
 *   /ws     → the WebSocket API (raw upgrade tunnel), path rewritten to /
 *   else    → static files, with index.html for unknown paths (the app routes by #hash)
 * One origin means no CORS preflight (serverless-offline does not answer OPTIONS for
 * the functions here) and works from another machine through one port.
 */
export const webRoot = resolve(__dirname, '..', 'web');

export function buildWebApp(): void {
  const vite = join(resolve(__dirname, '..'), 'node_modules/vite/bin/vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', join(webRoot, 'vite.config.mts')], {
    stdio: 'inherit',
    env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface WebServerOptions {
  port: number;
  httpPort: number;
  wsPort: number;
  host?: string;
  /** Folder of the built app (default web/dist). */
  dist?: string;
  /** When the port is taken, take any free one instead of failing. */
  fallbackPort?: boolean;
}

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function proxyApi(req: IncomingMessage, res: import('node:http').ServerResponse, httpPort: number): void {
  const path = (req.url ?? '/').replace(/^\/api/, '') || '/';
  const headers = { ...req.headers, host: `127.0.0.1:${httpPort}` };
  const up = httpRequest(
    { host: '127.0.0.1', port: httpPort, method: req.method, path, headers, timeout: 30000 },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    },
  );
  up.on('timeout', () => up.destroy(new Error('timeout')));
  up.on('error', () => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'unavailable', message: 'The API is not reachable' } }));
  });
  req.pipe(up);
}

function serveStatic(dist: string, urlPath: string, res: import('node:http').ServerResponse): void {
  let rel = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  if (rel.endsWith('/')) rel += 'index.html';
  let file = normalize(join(dist, rel));
  if (!file.startsWith(dist + sep) || !existsSync(file) || !statSync(file).isFile()) {
    file = join(dist, 'index.html');
  }
  if (!existsSync(file)) {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('The web app is not built: run `npm start` (it runs vite build into web/dist).');
    return;
  }
  const hashed = file.includes(`${sep}assets${sep}`);
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  createReadStream(file).pipe(res);
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const host = o.host ?? '127.0.0.1';
  const dist = resolve(o.dist ?? join(webRoot, 'dist'));
  let port = o.port;
  if (o.fallbackPort && !(await portFree(port, host))) port = 0;
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/api' || url.startsWith('/api/') || url.startsWith('/api?'))
      return proxyApi(req, res, o.httpPort);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      return void res.end();
    }
    serveStatic(dist, url, res);
  });
  // WebSocket: tunnel the upgrade to serverless-offline's WebSocket port as raw bytes.
  server.on('upgrade', (req, socket, head) => {
    const url = req.url ?? '/';
    if (!(url === '/ws' || url.startsWith('/ws?') || url.startsWith('/ws/'))) return void socket.destroy();
    const path = url.replace(/^\/ws\/?/, '/');
    const up = connect(o.wsPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${path} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        const value = name.toLowerCase() === 'host' ? `127.0.0.1:${o.wsPort}` : req.rawHeaders[i + 1]!;
        lines.push(`${name}: ${value}`);
      }
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
    socket.on('close', () => up.destroy());
    up.on('close', () => socket.destroy());
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
