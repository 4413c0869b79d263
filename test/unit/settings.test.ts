import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../shared/config';
import { loadFanoutConfig } from '../../coordinator/fanout/config';
import { loadHashSlotsOptions } from '../../shared/auth/hash-slots';
import { loadLoginThrottleConfig } from '../../shared/auth/login-throttle';
import { loadRealtimeConfig } from '../../shared/realtime/config';
import { maxConnectionsPerUser } from '../../shared/realtime/connection-quota';
import { SettingsError, loadSettings, parseSettings } from '../../shared/settings/load';
import { apiUrl, redisSeedsText, settingNames } from '../../shared/settings/schema';
import { rateLimitFromEnv } from '../../shared/votes/rate-limit';

describe('settings: one schema, read once, bad values fail naming the variable', () => {
  it('keeps every documented default', () => {
    const s = parseSettings({});
    expect(s).toMatchObject({
      PARTITIONS: 16,
      HTTP_PORT: 3000,
      REDIS_BASE_PORT: 7000,
      LOGIN_USER_FREE: 5,
      LOGIN_HASH_QUEUE: 4,
      WS_MAX_CONNECTIONS_PER_USER: 20,
      TALLY_INTERVAL_MS: 250,
      PIPELINE_IDLE_POLL_MS: 40,
      CLUSTER_NAME: 'qv',
    });
    expect(loadConfig({}).redisSeeds).toEqual(
      [7000, 7001, 7002].map((port) => ({ host: '127.0.0.1', port })),
    );
    expect(redisSeedsText(s, 6)).toBe(
      '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005',
    );
    expect(apiUrl(s)).toBe('http://127.0.0.1:3000');
    expect(rateLimitFromEnv('RATE_LIMIT_VOTER', 'RATE_LIMIT_WINDOW_MS', {})).toEqual({
      limit: 30,
      windowMs: 10000,
    });
  });

  it('moves every derived address with the port settings', () => {
    const s = parseSettings({ HTTP_PORT: '3100', REDIS_BASE_PORT: '7100' });
    expect(apiUrl(s)).toBe('http://127.0.0.1:3100');
    expect(redisSeedsText(s)).toBe('127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102');
    expect(redisSeedsText(parseSettings({ REDIS_SEEDS: '10.0.0.1:6379', REDIS_BASE_PORT: '7100' }))).toBe(
      '10.0.0.1:6379',
    );
  });

  // Each loader used to have its own parser: some threw, some silently used the default.
  it.each([
    ['PARTITIONS', 'abc', () => loadConfig({ PARTITIONS: 'abc' })],
    ['FANOUT_BATCH_MS', '-5', () => loadFanoutConfig({ FANOUT_BATCH_MS: '-5' })],
    ['WS_POST_CONCURRENCY', 'lots', () => loadRealtimeConfig({ WS_POST_CONCURRENCY: 'lots' })],
    ['LOGIN_USER_FREE', '0', () => loadLoginThrottleConfig({ LOGIN_USER_FREE: '0' })],
    ['LOGIN_HASH_QUEUE', '1.5', () => loadHashSlotsOptions({ LOGIN_HASH_QUEUE: '1.5' })],
    ['WS_MAX_CONNECTIONS_PER_USER', 'x', () => maxConnectionsPerUser({ WS_MAX_CONNECTIONS_PER_USER: 'x' })],
    [
      'RATE_LIMIT_READ',
      '-1',
      () => rateLimitFromEnv('RATE_LIMIT_READ', 'RATE_LIMIT_READ_WINDOW_MS', { RATE_LIMIT_READ: '-1' }),
    ],
    ['HTTP_PORT', '70000', () => parseSettings({ HTTP_PORT: '70000' })],
    ['CLUSTER_NAME', 'a b', () => parseSettings({ CLUSTER_NAME: 'a b' })],
    ['LOG_LEVEL', 'verbose', () => parseSettings({ LOG_LEVEL: 'verbose' })],
    ['LOG_FORMAT', 'xml', () => parseSettings({ LOG_FORMAT: 'xml' })],
  ])('%s=%s is refused with a message naming it', (name, value, load) => {
    expect(load).toThrow(SettingsError);
    expect(load).toThrow(new RegExp(`^Bad setting: ${name} must be .*, got "${value}"$`));
  });

  it('lists every bad variable at once', () => {
    expect(() => parseSettings({ HTTP_PORT: 'x', PARTITIONS: '0' })).toThrow(
      /^Bad setting: (?=.*HTTP_PORT must)(?=.*PARTITIONS must)/,
    );
  });

  it('treats an empty value as unset', () => {
    expect(parseSettings({ PARTITIONS: '', HTTP_PORT: ' ' })).toMatchObject({
      PARTITIONS: 16,
      HTTP_PORT: 3000,
    });
  });

  it('parses process.env once while it is unchanged', () => {
    expect(loadSettings()).toBe(loadSettings());
    const other = { ...process.env, PARTITIONS: '8' };
    expect(loadSettings(other).PARTITIONS).toBe(8);
  });

  it('sees every change of the environment between two reads (set, changed, removed)', () => {
    const env: NodeJS.ProcessEnv = { PARTITIONS: '8' };
    expect(loadSettings(env).PARTITIONS).toBe(8);
    env['PARTITIONS'] = '4';
    expect(loadSettings(env).PARTITIONS).toBe(4);
    env['HTTP_PORT'] = '3100';
    expect(loadSettings(env)).toMatchObject({ PARTITIONS: 4, HTTP_PORT: 3100 });
    delete env['PARTITIONS'];
    expect(loadSettings(env).PARTITIONS).toBe(16);
    env['PARTITIONS'] = 'x';
    expect(() => loadSettings(env)).toThrow(/PARTITIONS/);
  });

  it('documents every setting in the one table of docs/operations.md, and nothing else there', () => {
    const doc = readFileSync(join(__dirname, '../../docs/operations.md'), 'utf8');
    const start = doc.indexOf('### Settings');
    const table = doc
      .slice(start)
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    const documented = new Set(
      table.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!)),
    );
    const exempt = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    expect([...settingNames].filter((n) => !documented.has(n))).toEqual([]);
    expect([...documented].filter((n) => !exempt.has(n) && !(settingNames as string[]).includes(n))).toEqual(
      [],
    );
  });
});
