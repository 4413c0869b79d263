/**
 * The load generator's HTTP client: keep-alive sockets bounded by --max-in-flight, a
 * per-request timeout, and JSON calls for setup and polling that wait out the read
 * limits (429 + Retry-After).
 */
import { Agent as HttpAgent, type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RunError } from './errors';

/** What a failed request is counted as: `timeout` or `network <code>`. */
export const errName = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException & { name?: string };
  if (e?.name === 'TimeoutError') return 'timeout';
  return `network ${e?.code ?? e?.name ?? 'error'}`;
};

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export class Http {
  private readonly agent: HttpAgent;
  private readonly base: URL;

  constructor(
    readonly baseUrl: string,
    maxSockets: number,
  ) {
    this.base = new URL(baseUrl);
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets })
        : new HttpAgent({ keepAlive: true, maxSockets });
  }

  call(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<HttpAnswer> {
    const req = this.base.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolveAnswer, reject) => {
      const r = req(
        {
          host: this.base.hostname.replace(/^\[|\]$/g, ''),
          port: this.base.port || (this.base.protocol === 'https:' ? 443 : 80),
          method,
          path: `${this.base.pathname.replace(/\/$/, '')}${path}`,
          headers: {
            ...headers,
            ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          },
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolveAnswer({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      r.setTimeout(timeoutMs, () => {
        const e = new Error(`no answer within ${timeoutMs} ms`);
        e.name = 'TimeoutError';
        r.destroy(e);
      });
      r.on('error', reject);
      if (body !== undefined) r.write(body);
      r.end();
    });
  }

  /**
   * A JSON call for setup and polling: throws {@link RunError} when the stack cannot be
   * reached. A read answered 429 (the per-user read limits) waits Retry-After and retries.
   */
  async json(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.jsonOnce(method, path, token, body);
      const wait = Number(r.headers['retry-after'] ?? 1);
      if (r.status !== 429 || method !== 'GET' || attempt >= 30) return { status: r.status, body: r.body };
      await new Promise((done) => setTimeout(done, Math.min(10, Math.max(1, wait)) * 1000));
    }
  }

  private async jsonOnce(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown>; headers: IncomingHttpHeaders }> {
    let a: HttpAnswer;
    try {
      a = await this.call(
        method,
        path,
        {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body === undefined ? undefined : JSON.stringify(body),
        15000,
      );
    } catch (err) {
      throw new RunError(`cannot reach ${this.baseUrl} (${errName(err)}): is the stack running (npm start)?`);
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = a.text ? (JSON.parse(a.text) as Record<string, unknown>) : {};
    } catch {
      parsed = { raw: a.text.slice(0, 200) };
    }
    return { status: a.status, body: parsed, headers: a.headers };
  }
}

export const explain = (r: { status: number; body: Record<string, unknown> }): string => {
  const e = r.body['error'] as { code?: string; message?: string } | undefined;
  return e
    ? `${r.status} ${e.code ?? ''}: ${e.message ?? ''}`
    : `${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;
};
