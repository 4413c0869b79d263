import { execFileSync } from 'node:child_process';
import {
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import {
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, isIP } from 'node:net';
import type { Duplex } from 'node:stream';
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

/** Where each build of the web app goes; `web/dist` is a symlink to the current one. */
const buildsRoot = join(webRoot, 'dist-builds');

/**
 * Builds the web app and makes it current. Several stacks may build at once (two
 * browser test suites, or `npm start` beside a test): each builds into a folder of its
 * own and then points the `web/dist` symlink at it with one atomic rename, so a server
 * never sees a half-built or emptied `web/dist` (vite empties its output folder first).
 * Builds other than the current one and the one just replaced are removed.
 */
export function buildWebApp(): void {
  const vite = join(resolve(__dirname, '..'), 'node_modules/vite/bin/vite.js');
  mkdirSync(buildsRoot, { recursive: true });
  const id = `${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const out = join(buildsRoot, id);
  execFileSync(
    process.execPath,
    [vite, 'build', '--config', join(webRoot, 'vite.config.mts'), '--outDir', out, '--emptyOutDir'],
    { stdio: 'inherit', env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' } },
  );
  const dist = join(webRoot, 'dist');
  const previous = existsSync(dist) && lstatSync(dist).isSymbolicLink() ? readlinkSync(dist) : null;
  // A web/dist left by an older version (a real folder) is replaced once.
  if (existsSync(dist) && !lstatSync(dist).isSymbolicLink()) rmSync(dist, { recursive: true, force: true });
  const link = join(buildsRoot, `link-${id}`);
  symlinkSync(join('dist-builds', id), link);
  renameSync(link, dist);
  const keep = new Set([id, previous?.split(/[\\/]/).pop()]);
  for (const name of readdirSync(buildsRoot)) {
    // Older builds may still be served by a stack that resolved a path a moment ago:
    // keep the one just replaced; the rest are at least one swap old.
    if (!keep.has(name) && !name.startsWith('link-'))
      rmSync(join(buildsRoot, name), { recursive: true, force: true });
  }
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
  /**
   * Local address the proxy connects to the API from (e.g. 127.0.0.2): the API trusts
   * X-Forwarded-For only from the addresses in its TRUSTED_PROXIES, so the proxy needs
   * one that direct clients on this machine do not use.
   */
  proxyAddress?: string;
  /** Host of the HTTP and WebSocket APIs (default 127.0.0.1; another container in compose). */
  apiHost?: string;
}

export interface WebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The error envelope of API.md, for answers the web server gives itself. */
function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/**
 * The client's address as the API should see it. Whatever X-Forwarded-For the client
 * sent is replaced, not appended to: the API trusts this header only from the proxy
 * (TRUSTED_PROXIES), so the one value it reads must be the one the proxy saw.
 */
function peerAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

function proxyApi(req: IncomingMessage, res: ServerResponse, o: WebServerOptions): void {
  const path = (req.url ?? '/').replace(/^\/api/, '') || '/';
  const headers: OutgoingHttpHeaders = { ...req.headers, host: `${o.apiHost ?? '127.0.0.1'}:${o.httpPort}` };
  headers['x-forwarded-for'] = peerAddress(req);
  let up: ClientRequest;
  try {
    up = httpRequest(
      {
        host: o.apiHost ?? '127.0.0.1',
        port: o.httpPort,
        method: req.method,
        path,
        headers,
        timeout: 30000,
        // A new connection per request, never a pooled keep-alive one: the API server
        // closes idle connections (5 s), and a request sent on one as it closes fails
        // with ECONNRESET, which the browser would see as a 502 it did nothing to cause.
        agent: false,
        ...(o.proxyAddress ? { localAddress: o.proxyAddress } : {}),
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
  } catch {
    // Node refuses to send some targets and headers it accepted from the client.
    sendError(res, 400, 'invalid_request', 'The request cannot be forwarded (malformed URL or header)');
    return;
  }
  up.on('timeout', () => up.destroy(new Error('timeout')));
  up.on('error', () => sendError(res, 502, 'unavailable', 'The API is not reachable'));
  req.on('error', () => up.destroy());
  res.on('close', () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
}

/** The decoded path of a request target, or null when it is not valid percent-encoded UTF-8. */
export function decodePath(target: string): string | null {
  const raw = target.split('?')[0] ?? '/';
  let rel: string;
  try {
    rel = decodeURIComponent(raw);
  } catch {
    return null;
  }
  return rel.includes('\0') ? null : rel;
}

function serveStatic(dist: string, urlPath: string, res: ServerResponse): void {
  let rel = decodePath(urlPath);
  if (rel === null) return void sendError(res, 400, 'invalid_request', 'Malformed URL');
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
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** Answers a request the HTTP parser refused (bad bytes, huge headers) and closes the socket. */
function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (socket.writable) {
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({
      error: tooLarge
        ? { code: 'headers_too_large', message: 'Request headers are too large' }
        : { code: 'invalid_request', message: 'Malformed HTTP request' },
    });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Tunnels a WebSocket upgrade on /ws to serverless-offline's WebSocket port as raw bytes. */
function tunnelUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, o: WebServerOptions): void {
  socket.on('error', () => socket.destroy());
  const url = req.url ?? '/';
  if (!(url === '/ws' || url.startsWith('/ws?') || url.startsWith('/ws/'))) return void socket.destroy();
  const path = url.replace(/^\/ws\/?/, '/');
  const up = connect({
    port: o.wsPort,
    host: o.apiHost ?? '127.0.0.1',
    ...(o.proxyAddress ? { localAddress: o.proxyAddress } : {}),
  });
  up.on('connect', () => {
    const lines = [`${req.method} ${path} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      const lower = name.toLowerCase();
      if (lower === 'x-forwarded-for') continue; // replaced below, never passed on
      const value = lower === 'host' ? `${o.apiHost ?? '127.0.0.1'}:${o.wsPort}` : req.rawHeaders[i + 1]!;
      lines.push(`${name}: ${value}`);
    }
    lines.push(`X-Forwarded-For: ${peerAddress(req)}`);
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  up.on('error', () => socket.destroy());
  socket.on('close', () => up.destroy());
  up.on('close', () => socket.destroy());
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const host = o.host ?? '127.0.0.1';
  const dist = resolve(o.dist ?? join(webRoot, 'dist'));
  let port = o.port;
  if (o.fallbackPort && !(await portFree(port, host))) port = 0;
  const server: Server = createServer((req, res) => {
    // No request may take the process down: `npm start` runs every Redis node under it.
    try {
      const url = req.url ?? '/';
      if (url === '/api' || url.startsWith('/api/') || url.startsWith('/api?')) return proxyApi(req, res, o);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' });
        return void res.end();
      }
      serveStatic(dist, url, res);
    } catch {
      sendError(res, 400, 'invalid_request', 'The request could not be served');
    }
  });
  server.on('clientError', onClientError);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      tunnelUpgrade(req, socket, head, o);
    } catch {
      socket.destroy();
    }
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
