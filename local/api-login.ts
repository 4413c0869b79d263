/**
 * How the command-line clients of the HTTP API (`npm run trustee`, `npm run voter`)
 * get a token: a given one (`--token` / `QV_TOKEN`), else a login with a user name and
 * password (`--username` / `--password`, `QV_USERNAME` / `QV_PASSWORD`) through
 * `POST /auth/token`.
 */
export interface LoginOptions {
  url: string;
  token: string | undefined;
  username: string | undefined;
  password: string | undefined;
}

/** The token to use and whose it is (`sub`). */
export async function apiLogin(o: LoginOptions): Promise<{ token: string; sub: string }> {
  if (o.token) {
    const claims = JSON.parse(Buffer.from(o.token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sub?: unknown;
    };
    if (typeof claims.sub !== 'string') throw new Error('the token has no subject (sub)');
    return { token: o.token, sub: claims.sub };
  }
  const res = await fetch(`${o.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: o.username, password: o.password }),
  });
  const body = (await res.json()) as { token?: string; sub?: string; error?: { message: string } };
  if (!res.ok || !body.token || !body.sub)
    throw new Error(`login failed: ${body.error?.message ?? res.status}`);
  return { token: body.token, sub: body.sub };
}
