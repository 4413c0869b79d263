/**
 * The chaos clients' one HTTP call: fetch with a deadline, and every way it can end
 * turned into an answer or a named error, because the history must tell a definite
 * answer (a status and body) from an unknown outcome (no answer at all).
 */

/** A definite answer from the server. */
export interface Answer {
  status: number;
  body: unknown;
  /** The error code of a `{"error": {"code"}}` body. */
  code?: string;
  retryAfterS?: number;
}

/** No answer: `timeout`, or `network <code>` (connection refused or reset…). */
export class NoAnswer extends Error {
  override readonly name = 'NoAnswer';
}

function networkName(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string }; code?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  return `network ${e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? 'error'}`;
}

/** Sends one request; resolves with the answer, rejects with {@link NoAnswer}. */
export async function call(
  base: string,
  method: string,
  path: string,
  o: {
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs: number;
    signal?: AbortSignal;
  },
): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
  if (o.token) headers['authorization'] = `Bearer ${o.token}`;
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers,
      signal,
      ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    });
    text = await res.text();
  } catch (err) {
    throw new NoAnswer(networkName(err));
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text (a proxy's error page, say)
  }
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  const ra = Number(res.headers.get('retry-after'));
  return {
    status: res.status,
    body,
    ...(typeof code === 'string' ? { code } : {}),
    ...(Number.isFinite(ra) && ra > 0 ? { retryAfterS: ra } : {}),
  };
}

/** `202`, `409 already_voted`: how an answer is named in the history. */
export const describe = (a: Answer): string => (a.code ? `${a.status} ${a.code}` : String(a.status));
