import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PeerVerifier, macOf, signRaft, signTime, verifyTime } from '../../coordinator/peer-auth';
import {
  ensureClusterSecretFile,
  generateClusterSecret,
  loadClusterSecret,
} from '../../coordinator/peer-secret';
import type { RaftMessage } from '../../shared/consensus/raft';

/** Peer authentication: what the receiver of `POST /raft` and of a `/time` answer believes. */
describe('peer message authentication', () => {
  const secret = Buffer.from(generateClusterSecret());
  const hb: RaftMessage = { type: 'heartbeat', from: 'c1', to: 'c2', term: 4 };
  let now = 1_000_000;
  const verifier = (over: Partial<ConstructorParameters<typeof PeerVerifier>[0]> = {}) =>
    new PeerVerifier({ secret, cluster: 'qv', windowMs: 30000, now: () => now, ...over });

  it('accepts a signed message once, rebuilt from the signed fields only', () => {
    const v = verifier();
    const env = signRaft(secret, 'qv', hb, now);
    const extra = { ...env, message: { ...hb, injected: 'x' } };
    expect(v.verify(extra)).toEqual({ ok: true, message: hb });
    expect(v.verify(env)).toMatchObject({ ok: false, refusal: { status: 401, message: 'Replayed message' } });
  });

  it('refuses unsigned, wrongly keyed, tampered, foreign-cluster and malformed messages', () => {
    const v = verifier();
    const other = Buffer.from(generateClusterSecret());
    const refused = (body: unknown) => v.verify(body);
    expect(refused(hb)).toMatchObject({ ok: false, refusal: { status: 401, code: 'unauthorized' } });
    expect(refused({ message: hb })).toMatchObject({ ok: false, refusal: { status: 401 } });
    expect(refused(signRaft(other, 'qv', hb, now))).toMatchObject({ ok: false, refusal: { status: 401 } });
    expect(refused(signRaft(secret, 'other', hb, now))).toMatchObject({
      ok: false,
      refusal: { status: 401 },
    });
    for (const change of [{ term: 5 }, { from: 'c3' }, { to: 'c3' }, { type: 'timeoutNow' }]) {
      const env = signRaft(secret, 'qv', hb, now);
      expect(refused({ ...env, message: { ...hb, ...change } })).toMatchObject({
        ok: false,
        refusal: { status: 401 },
      });
    }
    const grant: RaftMessage = { type: 'voteResponse', from: 'c1', to: 'c2', term: 4, granted: false };
    const env = signRaft(secret, 'qv', grant, now);
    expect(refused({ ...env, message: { ...grant, granted: true } })).toMatchObject({ ok: false });
    const rv: RaftMessage = { type: 'requestVote', from: 'c1', to: 'c2', term: 4 };
    const rvEnv = signRaft(secret, 'qv', rv, now);
    expect(refused({ ...rvEnv, message: { ...rv, transfer: true } })).toMatchObject({ ok: false });
    const signed = signRaft(secret, 'qv', hb, now);
    expect(refused({ ...signed, message: { ...hb, term: -1 } })).toMatchObject({
      ok: false,
      refusal: { status: 400 },
    });
    expect(refused({ ...signed, message: { ...hb, type: 'bogus' } })).toMatchObject({
      ok: false,
      refusal: { status: 400 },
    });
    expect(refused({ ...signed, ts: '1' })).toMatchObject({ ok: false, refusal: { status: 401 } });
    expect(refused(null)).toMatchObject({ ok: false, refusal: { status: 400 } });
  });

  it('refuses messages outside the replay window and forgets nonces only once the window refuses them', () => {
    const v = verifier();
    expect(v.verify(signRaft(secret, 'qv', hb, now - 30001))).toMatchObject({
      ok: false,
      refusal: { status: 401 },
    });
    expect(v.verify(signRaft(secret, 'qv', hb, now + 30001))).toMatchObject({
      ok: false,
      refusal: { status: 401 },
    });
    const env = signRaft(secret, 'qv', hb, now);
    expect(v.verify(env).ok).toBe(true);
    now += 29000;
    expect(v.verify(env).ok).toBe(false); // still remembered
    now += 2000;
    expect(v.verify(env).ok).toBe(false); // forgotten, but now outside the window
  });

  it('fails closed when the nonce memory is full', () => {
    const v = verifier({ maxRemembered: 2 });
    expect(v.verify(signRaft(secret, 'qv', hb, now)).ok).toBe(true);
    expect(v.verify(signRaft(secret, 'qv', hb, now)).ok).toBe(true);
    expect(v.verify(signRaft(secret, 'qv', hb, now))).toMatchObject({ ok: false, refusal: { status: 401 } });
  });

  it('MACs are over a canonical encoding: no two field lists collide by concatenation', () => {
    expect(macOf(secret, 'qv', 'raft', ['a|b', 'c'])).not.toBe(macOf(secret, 'qv', 'raft', ['a', 'b|c']));
    expect(macOf(secret, 'qv', 'raft', ['x'])).not.toBe(macOf(secret, 'qv', 'time', ['x']));
  });

  it('a /time answer counts only when signed by the expected node for this request', () => {
    const nonce = 'ab'.repeat(16);
    const reply = { now: 42, node: 'c1', mac: signTime(secret, 'qv', 'c1', nonce, 42) };
    expect(verifyTime(secret, 'qv', reply, 'c1', nonce)).toBe(42);
    expect(verifyTime(secret, 'qv', { ...reply, now: 43 }, 'c1', nonce)).toBeNull();
    expect(verifyTime(secret, 'qv', reply, 'c2', nonce)).toBeNull();
    expect(verifyTime(secret, 'qv', reply, 'c1', 'cd'.repeat(16))).toBeNull(); // replayed to another request
    expect(verifyTime(secret, 'qv', { now: 42, node: 'c1' }, 'c1', nonce)).toBeNull();
  });
});

describe('cluster secret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qv-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a coordinator without a usable secret refuses to start, with a clear error', () => {
    expect(() => loadClusterSecret({})).toThrow(
      /No cluster secret: set CLUSTER_SECRET or CLUSTER_SECRET_FILE/,
    );
    expect(() => loadClusterSecret({ CLUSTER_SECRET: 'short' })).toThrow(/at least 32 characters/);
    expect(() => loadClusterSecret({ CLUSTER_SECRET_FILE: join(dir, 'missing') })).toThrow(/cannot be read/);
    expect(() => loadClusterSecret({ CLUSTER_SECRET: 'x'.repeat(32), CLUSTER_SECRET_FILE: 'f' })).toThrow(
      /not both/,
    );
    expect(loadClusterSecret({ CLUSTER_SECRET: 'x'.repeat(32) }).toString()).toBe('x'.repeat(32));
  });

  it('npm start generates the secret file once, mode 0600, and never overwrites it', () => {
    const path = ensureClusterSecretFile(join(dir, 'keys', 'cluster-secret'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const first = readFileSync(path, 'utf8');
    expect(first.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(loadClusterSecret({ CLUSTER_SECRET_FILE: path }).toString()).toBe(first.trim());
    ensureClusterSecretFile(path);
    expect(readFileSync(path, 'utf8')).toBe(first);
    // A pre-existing file that others could read is tightened.
    const loose = join(dir, 'loose');
    writeFileSync(loose, 'y'.repeat(40), { mode: 0o644 });
    ensureClusterSecretFile(loose);
    expect(statSync(loose).mode & 0o777).toBe(0o600);
  });
});
