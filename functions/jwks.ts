import { publicJwks } from '../shared/auth/keys';
import { loadConfig } from '../shared/config';
import { httpHandler } from './lib/http';

// Needs no Redis: loading config directly keeps ioredis out of this bundle.
const config = loadConfig();

/**
 * `GET /.well-known/jwks.json`: the public keys that verify tokens from `POST /auth/token`.
 * Cacheable for a few minutes: verifiers refetch on an unknown `kid` anyway.
 */
export const handler = httpHandler('GET /.well-known/jwks.json', async () => ({
  status: 200,
  body: publicJwks({ keyDir: config.jwt.keyDir }),
  headers: { 'cache-control': 'public, max-age=300' },
}));
