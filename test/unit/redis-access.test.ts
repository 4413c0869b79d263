import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisAccessFromSettings, redisAccessOptions } from '../../shared/redis/access';
import { SettingsError, parseSettings } from '../../shared/settings/load';

/**
 * Redis TLS and AUTH settings (REDIS_TLS*, REDIS_USERNAME, REDIS_PASSWORD): read from
 * the one schema, files read at start, and a half-made TLS configuration refused at
 * start instead of quietly talking plaintext.
 */
describe('Redis access from the settings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qv-redis-access-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `-----${f}-----\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const access = (env: NodeJS.ProcessEnv) => redisAccessFromSettings(parseSettings(env));

  it('is plaintext without AUTH by default (the local stack)', () => {
    expect(access({})).toEqual({});
    expect(redisAccessOptions(access({}))).toEqual({});
  });

  it('turns on TLS with a CA, a client certificate and an ACL user', () => {
    const a = access({
      REDIS_TLS: '1',
      REDIS_TLS_CA_FILE: join(dir, 'ca.pem'),
      REDIS_TLS_CERT_FILE: join(dir, 'cert.pem'),
      REDIS_TLS_KEY_FILE: join(dir, 'key.pem'),
      REDIS_TLS_SERVERNAME: 'redis.internal',
      REDIS_USERNAME: 'qv',
      REDIS_PASSWORD: 'pw',
    });
    expect(redisAccessOptions(a)).toEqual({
      tls: {
        ca: '-----ca.pem-----\n',
        cert: '-----cert.pem-----\n',
        key: '-----key.pem-----\n',
        servername: 'redis.internal',
      },
      username: 'qv',
      password: 'pw',
    });
  });

  it('uses the system CAs when no CA file is given (ElastiCache certificates are public)', () => {
    expect(access({ REDIS_TLS: '1', REDIS_PASSWORD: 'token' })).toEqual({ tls: {}, password: 'token' });
  });

  it.each([
    [{ REDIS_TLS_CA_FILE: 'ca.pem' }, /REDIS_TLS_CA_FILE set but REDIS_TLS is not 1/],
    [
      { REDIS_TLS: '1', REDIS_TLS_CERT_FILE: 'cert.pem' },
      /REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together/,
    ],
    [{ REDIS_TLS: '1', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, /REDIS_TLS_CA_FILE cannot be read/],
  ])('refuses %j at start, naming the variable', (env, message) => {
    expect(() => access(env)).toThrow(SettingsError);
    expect(() => access(env)).toThrow(message);
  });
});
