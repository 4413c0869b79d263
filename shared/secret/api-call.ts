/**
 * The one HTTP shape the secret-ballot clients (voter, trustee) need, so they run with
 * `fetch` in Node (CLI, load generator, tests) and in browsers alike.
 */
export type ApiCall = (
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<{ status: number; body: ApiBody }>;

/** A parsed JSON answer; each client reads the fields its route documents (docs/openapi.yaml). */
// biome-ignore lint/suspicious/noExplicitAny: answers are untyped JSON, read per route
export type ApiBody = any;

/** An ApiCall over `fetch` with a bearer token. */
export function fetchApi(baseUrl: string, token: string): ApiCall {
  return async (method, path, body, headers = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  };
}

/**
 * An API answer a client did not expect, keeping the status, the error code and the
 * server's message apart so a UI can explain it (the web trustee page says why a share
 * was refused); its `message` is the one line the CLIs print.
 */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';
  constructor(
    readonly what: string,
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
    readonly details: ApiBody,
  ) {
    super(`${what}: HTTP ${status} ${code} ${serverMessage}`);
  }
}

/** Throws an {@link ApiCallError} with the API's error code unless `r.status` is one of `ok`. */
export function expectStatus<T extends { status: number; body: ApiBody }>(
  r: T,
  what: string,
  ...ok: number[]
): T {
  if (!ok.includes(r.status)) {
    const code = r.body?.error?.code ?? '';
    const message = r.body?.error?.message ?? JSON.stringify(r.body);
    throw new ApiCallError(what, r.status, code, message, r.body?.error?.details);
  }
  return r;
}

/**
 * Retries `503 unavailable` (a busy or failing-over cluster: the server says "retry")
 * and a connection lost before any answer, a few times, a second apart. Only for
 * requests that are safe to repeat: every secret-ballot write is (write-once values,
 * and votes carry an Idempotency-Key).
 */
export function retrying(api: ApiCall, attempts = 5, waitMs = 1000): ApiCall {
  return async (method, path, body, headers) => {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await api(method, path, body, headers);
        if (r.status !== 503 || attempt >= attempts) return r;
      } catch (err) {
        if (attempt >= attempts) throw err;
      }
      await new Promise((done) => setTimeout(done, waitMs));
    }
  };
}
