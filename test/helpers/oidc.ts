import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type ManagedProcess, spawnManaged } from '../../local/processes';

/**
 * A real OpenID Connect provider for tests (test/helpers/oidc-issuer.mjs, the
 * `oidc-provider` package in its own process) and a client that logs users in the way a
 * browser would: authorization code flow with PKCE, its login form, consent, then the
 * token endpoint. `stop()` ends the process.
 */
export const OIDC_API_AUDIENCE = 'https://api.quorumvote.test';
const REDIRECT_URI = 'http://127.0.0.1/callback';

export interface OidcTokens {
  accessToken: string;
  idToken: string;
}

export interface TestIssuer {
  issuer: string;
  proc: ManagedProcess;
  /** Logs `username` in through the provider's login form; throws on any unexpected step. */
  login(username: string, password: string, client?: 'qv-web' | 'qv-short'): Promise<OidcTokens>;
  /** Adds a new signing key in front (used for new tokens); the old one stays published. */
  rotate(): Promise<string[]>;
  /** Withdraws every signing key but the newest. */
  retire(): Promise<string[]>;
  stop(): Promise<void>;
}

const b64url = (b: Buffer) => b.toString('base64url');

/** Cookies by name: the provider's interaction and session cookies across redirects. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function login(
  issuer: string,
  username: string,
  password: string,
  client: 'qv-web' | 'qv-short',
): Promise<OidcTokens> {
  const jar = new CookieJar();
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const step = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(new URL(url, issuer), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.take(res);
    return res;
  };
  const auth = new URL('/auth', issuer);
  auth.search = new URLSearchParams({
    client_id: client,
    response_type: 'code',
    scope: 'openid profile vote',
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: b64url(randomBytes(8)),
    resource: OIDC_API_AUDIENCE,
  }).toString();
  let res = await step(auth.href);
  let code: string | undefined;
  for (let hops = 0; hops < 10 && code === undefined; hops++) {
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(`login of ${username}: unexpected ${res.status} ${await res.text()}`);
    }
    if (location.startsWith(REDIRECT_URI)) {
      const back = new URL(location);
      code = back.searchParams.get('code') ?? undefined;
      if (!code) throw new Error(`login of ${username}: ${back.searchParams.get('error_description')}`);
      break;
    }
    if (/^\/interaction\//.test(new URL(location, issuer).pathname)) {
      const prompt = ((await (await step(location)).json()) as { prompt: string }).prompt;
      const form = prompt === 'login' ? new URLSearchParams({ username, password }) : new URLSearchParams();
      res = await step(`${location}/${prompt}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      continue;
    }
    res = await step(location);
  }
  if (code === undefined) throw new Error(`login of ${username}: no authorization code`);
  const token = await fetch(new URL('/token', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: client,
      client_secret: `${client}-secret`,
      resource: OIDC_API_AUDIENCE,
    }).toString(),
  });
  const body = (await token.json()) as { access_token?: string; id_token?: string; error?: string };
  if (token.status !== 200 || !body.access_token || !body.id_token) {
    throw new Error(`token request for ${username}: ${token.status} ${JSON.stringify(body)}`);
  }
  return { accessToken: body.access_token, idToken: body.id_token };
}

/** Starts a provider on a free 127.0.0.1 port; its issuer URL is known once it is listening. */
export async function startTestIssuer(): Promise<TestIssuer> {
  let resolveIssuer: (issuer: string) => void;
  const ready = new Promise<string>((r) => {
    resolveIssuer = r;
  });
  const output: string[] = [];
  const proc = spawnManaged('oidc-issuer', process.execPath, [join(__dirname, 'oidc-issuer.mjs')], {
    cwd: join(__dirname, '../..'),
    onLine: (line) => {
      output.push(line);
      if (line.startsWith('{"issuer"')) resolveIssuer((JSON.parse(line) as { issuer: string }).issuer);
    },
  });
  const issuer = await Promise.race([
    ready,
    proc.exited.then((code) => {
      throw new Error(`oidc-issuer exited (${code}): ${output.join('\n')}`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`oidc-issuer did not start: ${output.join('\n')}`)), 20000),
    ),
  ]);
  const control = async (what: string): Promise<string[]> => {
    const res = await fetch(new URL(`/__test/${what}`, issuer), { method: 'POST' });
    return ((await res.json()) as { kids: string[] }).kids;
  };
  return {
    issuer,
    proc,
    login: (username, password, client = 'qv-web') => login(issuer, username, password, client),
    rotate: () => control('rotate'),
    retire: () => control('retire'),
    stop: () => proc.stop(),
  };
}

/** The `kid` in a token's header. */
export function kidOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
}
