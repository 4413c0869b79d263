import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../shared/auth/tokens';

/** A key dir shared by the test process (minting tokens) and serverless-offline (verifying them). */
export function testKeyDir(): string {
  return mkdtempSync(join(tmpdir(), 'qv-keys-'));
}

export interface Api {
  base: string;
  keyDir: string;
  token(sub: string, role: 'voter' | 'admin' | 'auditor' | 'trustee'): Promise<string>;
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: answers are untyped JSON that each test reads per route
  ): Promise<{ status: number; body: any; headers: Headers }>;
}

const votePath = /^\/elections\/[^/?]+\/votes$/;

/**
 * A test client. Vote submissions behave like the web app's: they always carry an
 * Idempotency-Key (a fresh one unless the test sets its own) and a `503` is retried with
 * the same key after Retry-After, a few times (a 202 needs a replica's confirmation,
 * which a loaded machine can delay past the server's WAIT timeout). `voteAttempts: 1`
 * for a test that wants to see the 503 itself.
 */
export function makeApi(base: string, keyDir: string, options: { voteAttempts?: number } = {}): Api {
  const voteAttempts = options.voteAttempts ?? 5;
  const call: Api['call'] = async (method, path, opts = {}) => {
    if (method !== 'POST' || !votePath.test(path)) return callOnce(base, method, path, opts);
    const has = Object.keys(opts.headers ?? {}).some((h) => h.toLowerCase() === 'idempotency-key');
    const keyed = has ? opts : { ...opts, headers: { ...opts.headers, 'idempotency-key': randomUUID() } };
    for (let attempt = 1; ; attempt++) {
      const r = await callOnce(base, method, path, keyed);
      if (r.status !== 503 || attempt >= voteAttempts) return r;
      const after = Number(r.headers.get('retry-after'));
      await new Promise((res) => setTimeout(res, (Number.isFinite(after) && after > 0 ? after : 1) * 1000));
    }
  };
  return {
    base,
    keyDir,
    token: (sub, role) => mintToken({ sub, role }, { keyDir, ttlS: 3600 }),
    call,
  };
}

async function callOnce(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> },
): ReturnType<Api['call']> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetchFresh(`${base}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * `fetch`, sent once more when it failed on a kept-alive connection that the server had
 * closed as idle while this process was busy (making or verifying ballots in the test
 * process blocks its event loop for seconds, so the client never saw the close): the
 * error comes before any byte of an answer. Browsers send such a request again on a new
 * connection; so does this client, once. Had the server in fact run it, the repeat
 * shows (a 409, another id): never hidden.
 */
export function fetchFresh(url: string, init: RequestInit): Promise<Response> {
  return fetch(url, init).catch((err: unknown) => {
    if (!staleConnection(err)) throw err;
    return fetch(url, init);
  });
}

/** undici's error for a reused connection that the server had already closed. */
function staleConnection(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code === 'UND_ERR_SOCKET' && cause.message === 'other side closed';
}
