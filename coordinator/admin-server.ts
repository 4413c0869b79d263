import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * The coordinator's admin HTTP endpoint: `/health`, `/status`, `/metrics`, plus the
 * peer-to-peer routes the cluster uses (`/raft`, `/time`). Tiny on purpose: no
 * framework, JSON in and out, 64 KiB body limit.
 */
export type AdminRoute = (req: {
  method: string;
  path: string;
  body: unknown;
  query: URLSearchParams;
}) => Promise<{ status: number; body: unknown; contentType?: string }>;

export async function startAdminServer(
  port: number,
  routes: Record<string, AdminRoute>,
  host = '127.0.0.1',
): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
      else chunks.push(c);
    });
    // A client that goes away mid-request must not take the process with it.
    req.on('error', () => {});
    req.on('end', () => {
      const send = (status: number, body: unknown, contentType = 'application/json'): void => {
        const text =
          typeof body === 'string' && contentType !== 'application/json' ? body : JSON.stringify(body);
        res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(text);
      };
      // Any request line must get an answer, never an exception: `new URL` throws on
      // targets such as `http://[` that the HTTP parser lets through.
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://local');
      } catch {
        send(400, { error: { code: 'invalid_request', message: 'Malformed request target' } });
        return;
      }
      const key = `${req.method} ${url.pathname}`;
      const route = routes[key];
      if (!route) {
        send(404, { error: { code: 'not_found', message: `No route ${key}` } });
        return;
      }
      let body: unknown;
      try {
        body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      } catch {
        send(400, { error: { code: 'invalid_request', message: 'Body is not valid JSON' } });
        return;
      }
      route({ method: req.method ?? 'GET', path: url.pathname, body, query: url.searchParams }).then(
        (r) => send(r.status, r.body, r.contentType),
        (err: unknown) =>
          send(500, { error: { code: 'internal', message: err instanceof Error ? err.message : 'error' } }),
      );
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
