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

/** Throws with the API's error code unless `r.status` is one of `ok`. */
export function expectStatus<T extends { status: number; body: ApiBody }>(
  r: T,
  what: string,
  ...ok: number[]
): T {
  if (!ok.includes(r.status)) {
    const code = r.body?.error?.code ?? '';
    const message = r.body?.error?.message ?? JSON.stringify(r.body);
    throw new Error(`${what}: HTTP ${r.status} ${code} ${message}`);
  }
  return r;
}
