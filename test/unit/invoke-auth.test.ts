import { MAX_INVOKE_AGE_MS, invokeSecret, openInvoke, signInvoke } from '../../shared/realtime/invoke-auth';

describe('signed broadcast invokes (INVOKE_SECRET)', () => {
  const secret = 's'.repeat(40);
  const now = 1_800_000_000_000;
  const request = { events: [], from: 'c1', sentAt: now };

  test('a signed request opens to itself', () => {
    expect(openInvoke(secret, signInvoke(secret, request), now + 1000)).toEqual(request);
  });

  test('unsigned, forged, tampered or stale requests are refused', () => {
    expect(() => openInvoke(secret, request, now)).toThrow(/unsigned/);
    expect(() => openInvoke(secret, signInvoke('t'.repeat(40), request), now)).toThrow(/MAC/);
    const s = signInvoke(secret, request);
    expect(() => openInvoke(secret, { ...s, signed: s.signed.replace('c1', 'c2') }, now)).toThrow(/MAC/);
    expect(() => openInvoke(secret, { ...s, mac: 'zz' }, now)).toThrow(/MAC/);
    expect(() => openInvoke(secret, s, now + MAX_INVOKE_AGE_MS + 1)).toThrow(/too old/);
    const noTime = signInvoke(secret, { events: [] } as { sentAt?: number });
    expect(() => openInvoke(secret, noTime, now)).toThrow(/too old/);
  });

  test('a short secret is a configuration error; none means unsigned invokes', () => {
    expect(() => invokeSecret({ INVOKE_SECRET: 'short' })).toThrow(/32/);
    expect(invokeSecret({})).toBeUndefined();
  });
});
