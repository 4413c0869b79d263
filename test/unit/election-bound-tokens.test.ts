import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../shared/clock';
import { assertElection, mayActIn } from '../../shared/auth/election-binding';
import { ensureKeyPair } from '../../shared/auth/keys';
import { InvalidTokenError, issueToken, mintToken, TokenVerifier } from '../../shared/auth/tokens';
import { authorizeTopic, type TopicDirectory } from '../../shared/realtime/authorize';
import { parseTopic } from '../../shared/realtime/topics';
import { ApiError } from '../../shared/errors';

/**
 * Election-bound tokens (claim `eid`, issue 17): issued and verified with the binding,
 * a malformed binding refused (never read as "unbound"), and the one rule that HTTP
 * routes (`assertElection`) and WebSocket topics (`authorizeTopic`) share.
 */
const issuer = 'qv-test-issuer';
const audience = 'qv-test-audience';
const keyDir = mkdtempSync(join(tmpdir(), 'qv-eid-'));
ensureKeyPair({ keyDir, env: {} });
const clock = new ManualClock(Date.UTC(2030, 0, 1));
const verifier = new TokenVerifier({ issuer, audience, keyDir, clock });
afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

describe('claim eid', () => {
  it('is issued and verified', async () => {
    const token = await issueToken(
      { sub: 'vtr_abc', role: 'voter', eid: 'elabcd1234' },
      { issuer, audience, keyDir, clock, env: {}, ttlS: 600 },
    );
    expect((await verifier.verify(token)).eid).toBe('elabcd1234');
  });

  it('is absent on an account token', async () => {
    const token = await issueToken(
      { sub: 'usr_abc', role: 'voter' },
      { issuer, audience, keyDir, clock, env: {}, ttlS: 600 },
    );
    expect((await verifier.verify(token)).eid).toBeUndefined();
  });

  it.each([[''], ['EL-upper'], [42], [['elabcd1234']]])('refuses a malformed eid %p', async (eid) => {
    const token = await mintToken(
      { sub: 'x', role: 'voter', eid },
      { issuer, audience, keyDir, clock, env: {}, ttlS: 60 },
    );
    const err = await verifier.verify(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidTokenError);
    expect((err as InvalidTokenError).message).toMatch(/eid/);
  });
});

describe('assertElection', () => {
  it('passes unbound tokens and tokens of that election, refuses others with 403 wrong_election', () => {
    expect(mayActIn(undefined, 'elaaaa1')).toBe(true);
    expect(mayActIn('elaaaa1', 'elaaaa1')).toBe(true);
    expect(() => assertElection({}, 'elaaaa1')).not.toThrow();
    expect(() => assertElection({ eid: 'elaaaa1' }, 'elaaaa1')).not.toThrow();
    const err = (() => {
      try {
        assertElection({ eid: 'elaaaa1' }, 'elbbbb2');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 403, code: 'wrong_election' });
  });
});

describe('WebSocket topics', () => {
  const dir: TopicDirectory = {
    electionExists: async () => true,
    voteOwner: async () => 'vtr_abc',
  };
  const outcome = (who: { sub: string; role: 'voter' | 'admin'; eid?: string }, topic: string) =>
    authorizeTopic(who, parseTopic(topic)!, dir).then(
      () => 'ok',
      (e: { code: string }) => e.code,
    );

  it('a bound token watches its own election and votes only', async () => {
    const who = { sub: 'vtr_abc', role: 'voter' as const, eid: 'elaaaa1' };
    expect(await outcome(who, 'election:elaaaa1')).toBe('ok');
    expect(await outcome(who, 'election:elbbbb2')).toBe('wrong_election');
    expect(await outcome(who, 'vote:elaaaa1.0.1-0')).toBe('ok');
    expect(await outcome(who, 'vote:elbbbb2.0.1-0')).toBe('wrong_election');
    expect(await outcome({ sub: 'vtr_abc', role: 'voter' }, 'election:elbbbb2')).toBe('ok');
  });
});
