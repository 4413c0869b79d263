import { loadPublicJwks } from '../shared/auth/public-keys';
import { loadConfig } from '../shared/config';
import { httpHandler } from './lib/http';

// Needs no Redis: loading config directly keeps ioredis out of this bundle.
const config = loadConfig();
// The public keys only, read at start: a missing key file fails here, loudly.
const jwks = loadPublicJwks({ keyDir: config.jwt.keyDir });

/**
 * `GET /.well-known/jwks.json`: the public keys that verify tokens from `POST /auth/token`.
 * Cacheable for a few minutes: verifiers refetch on an unknown `kid` anyway.
 */
export const handler = httpHandler('GET /.well-known/jwks.json', async () => ({
  status: 200,
  body: jwks,
  headers: { 'cache-control': 'public, max-age=300' },
}));
