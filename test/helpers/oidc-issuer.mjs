// A real OpenID Connect provider (the `oidc-provider` package) for tests, run as its own
// process: `node test/helpers/oidc-issuer.mjs` listens on a free 127.0.0.1 port and
// prints one JSON line `{"issuer": "http://127.0.0.1:<port>"}` when ready.
//
// Users log in with the authorization code flow + PKCE through a login form of our own
// (POST /interaction/<uid>/login checks the password, /consent grants what was asked),
// as a real IdP's hosted login would. Access tokens are JWTs (resource indicators) for
// the API identifier `API_AUDIENCE`, carrying the user's roles Keycloak-style in
// `realm_access.roles`; ID tokens have the client id as audience.
//
// Test controls (never part of a real IdP): POST /__test/rotate adds a new signing key in
// front (new tokens use it, the old one stays published), POST /__test/retire withdraws
// every key but the newest.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

export const API_AUDIENCE = 'https://api.quorumvote.test';
const ACCOUNTS = {
  erin: { password: 'erin-password', roles: ['qv-voters'] },
  frank: { password: 'frank-password', roles: ['qv-voters'] },
  oscar: { password: 'oscar-password', roles: ['offline_access', 'qv-admins'] },
  tina: { password: 'tina-password', roles: ['qv-trustees'] },
  nora: { password: 'nora-password', roles: ['offline_access'] },
};
// Subjects look like another IdP's (opaque, not the login name).
const subjectOf = (username) => `kc-${username}-0001`;
const accountBySubject = (sub) => Object.entries(ACCOUNTS).find(([name]) => subjectOf(name) === sub);

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: `ec-${randomUUID().slice(0, 8)}`,
    alg: 'ES256',
    use: 'sig',
  };
}
// ID tokens are RS256 by default: one RSA key, never rotated here.
const { privateKey: rsa } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaKey = { ...rsa.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
let signingKeys = [newSigningKey()];

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = process.env.OIDC_TEST_ISSUER || `http://127.0.0.1:${server.address().port}`;

function makeProvider() {
  return new Provider(issuer, {
    clients: [
      {
        client_id: 'qv-web',
        client_secret: 'qv-web-secret',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        // Same, with access tokens that live one second (for the expiry test).
        client_id: 'qv-short',
        client_secret: 'qv-short-secret',
        redirect_uris: ['http://127.0.0.1/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [...signingKeys, rsaKey] },
    cookies: { keys: ['oidc-issuer-test-cookie-key'] },
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => {
          if (resource !== API_AUDIENCE) throw new errors.InvalidTarget();
          return {
            scope: 'vote',
            audience: API_AUDIENCE,
            accessTokenTTL: client.clientId === 'qv-short' ? 1 : 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    findAccount: (_ctx, sub) => {
      const found = accountBySubject(sub);
      if (!found) return undefined;
      return { accountId: sub, claims: () => ({ sub, preferred_username: found[0] }) };
    },
    extraTokenClaims: (_ctx, token) => {
      const found = accountBySubject(token.accountId);
      return found ? { realm_access: { roles: found[1].roles }, preferred_username: found[0] } : undefined;
    },
  });
}
let provider = makeProvider();

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

async function interaction(req, res, action) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') return json(res, 200, { uid: details.uid, prompt: details.prompt.name });
  if (action === 'login') {
    const form = await readForm(req);
    const account = ACCOUNTS[form.get('username') ?? ''];
    if (!account || account.password !== form.get('password')) {
      return json(res, 401, { error: 'wrong user name or password' });
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: subjectOf(form.get('username')) } },
      { mergeWithLastSubmission: false },
    );
  }
  // consent: grant what the client asked for
  const { prompt, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  const grantId = await grant.save();
  return provider.interactionFinished(
    req,
    res,
    { consent: details.grantId ? {} : { grantId } },
    { mergeWithLastSubmission: true },
  );
}

server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const m = /^\/interaction\/[^/]+(?:\/(login|consent))?$/.exec(url.pathname);
    if (m) return await interaction(req, res, m[1]);
    if (req.method === 'POST' && url.pathname === '/__test/rotate') {
      signingKeys = [newSigningKey(), ...signingKeys];
      provider = makeProvider();
      return json(res, 200, { kids: signingKeys.map((k) => k.kid) });
    }
    if (req.method === 'POST' && url.pathname === '/__test/retire') {
      signingKeys = signingKeys.slice(0, 1);
      provider = makeProvider();
      return json(res, 200, { kids: signingKeys.map((k) => k.kid) });
    }
    return provider.callback()(req, res);
  } catch (err) {
    json(res, 500, { error: String(err?.message ?? err) });
  }
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
