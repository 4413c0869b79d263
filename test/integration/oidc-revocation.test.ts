import type { Cluster } from 'ioredis';
import { isExternalTokenRevoked, RevocationList } from '../../shared/auth/revocations';
import { revocationKeys } from '../../shared/redis/keys';
import { testRedis, uniqueNs } from '../helpers/redis';

/**
 * Tokens of an external issuer carry no session version, so revocation judges them by
 * when they were issued: revoke-sessions.lua records the time of the last revoke or
 * disable (the caller's clock, never moved back by a caller whose clock is behind).
 */
describe('revocation of external tokens (by issue time)', () => {
  let redis: Cluster;
  let list: RevocationList;
  const subs: string[] = [];
  const sub = () => {
    const s = `oidc_${uniqueNs('rv')}`;
    subs.push(s);
    return s;
  };
  beforeAll(() => {
    redis = testRedis();
    list = new RevocationList(redis);
  });
  afterAll(async () => {
    await Promise.all(subs.map((s) => redis.del(revocationKeys.subject(s))));
    await redis.quit();
  });

  test('revoke and disable record when; enable keeps it; an earlier time never replaces a later one', async () => {
    const s = sub();
    expect(await list.state(s)).toEqual({ version: 0, disabled: false, revokedAt: 0 });
    await list.apply(s, 'revoke', 1_000_000);
    expect(await list.state(s)).toEqual({ version: 1, disabled: false, revokedAt: 1_000_000 });
    await list.apply(s, 'disable', 999_000); // a caller whose clock is behind
    expect(await list.state(s)).toEqual({ version: 2, disabled: true, revokedAt: 1_000_000 });
    await list.apply(s, 'enable', 2_000_000);
    expect(await list.state(s)).toEqual({ version: 2, disabled: false, revokedAt: 1_000_000 });
    await list.apply(s, 'revoke', 3_000_000);
    expect((await list.state(s)).revokedAt).toBe(3_000_000);
  });

  test('a token issued at or before the revocation (plus tolerance) is refused, a later one accepted', async () => {
    const s = sub();
    const never = await list.state(s);
    expect(isExternalTokenRevoked(never, 1, 30_000)).toBe(false);
    await list.apply(s, 'revoke', 1_000_500);
    const state = await list.state(s);
    expect(isExternalTokenRevoked(state, 1000, 0)).toBe(true); // same second
    expect(isExternalTokenRevoked(state, 1001, 0)).toBe(false);
    expect(isExternalTokenRevoked(state, 1030, 30_000)).toBe(true); // within the issuer's clock tolerance
    expect(isExternalTokenRevoked(state, 1031, 30_000)).toBe(false);
    await list.apply(s, 'disable', 1_000_600);
    expect(isExternalTokenRevoked(await list.state(s), 5000, 0)).toBe(true);
  });
});
