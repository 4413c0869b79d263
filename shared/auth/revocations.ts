import type { Cluster, Redis } from 'ioredis';
import { type Clock, systemClock } from '../clock';
import { revocationKeys } from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';

/**
 * Token revocation. A JWT stays valid until it expires unless every verifier also
 * checks this list: per subject (the tokens' `sub`), a session version and a disabled
 * flag. The issuer stamps the current version into each token (claim `sv`); ending all
 * sessions bumps the version, so every older token is refused. Keyed by `sub` rather
 * than by user record, it works alike for tokens of the local identity provider, of an
 * external one (JWKS_URL) and of the load generator's synthetic voters.
 *
 * Verifiers keep a copy of the (small) list and re-read it only when its version
 * counter moved, checked at most every `refreshMs`: a revocation takes effect
 * everywhere within that time, at the cost of one GET per process per interval.
 */
export interface SubjectState {
  /** Tokens whose `sv` is below this are revoked. */
  version: number;
  disabled: boolean;
}

export type RevocationAction = 'revoke' | 'disable' | 'enable';

const revokeScript = defineScript('revokeSessions', {
  keys: 2,
  parse: (r): SubjectState => {
    const [version, disabled] = reply.array('revokeSessions', r, 2);
    return {
      version: reply.integer('revokeSessions', version),
      disabled: reply.oneOf('revokeSessions', disabled, [0, 1]) === 1,
    };
  },
});

const NONE: SubjectState = Object.freeze({ version: 0, disabled: false });

/** True when a token of `sub` with session version `sv` must be refused. */
export function isRevoked(state: SubjectState, sv: number | undefined): boolean {
  return state.disabled || (sv ?? 0) < state.version;
}

function parseState(fields: Record<string, string>): Map<string, SubjectState> {
  const out = new Map<string, SubjectState>();
  const entry = (sub: string): SubjectState => {
    let s = out.get(sub);
    if (!s) {
      s = { version: 0, disabled: false };
      out.set(sub, s);
    }
    return s;
  };
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith('v:')) entry(field.slice(2)).version = Number(value) || 0;
    else if (field.startsWith('d:')) entry(field.slice(2)).disabled = value === '1';
  }
  return out;
}

export interface RevocationListOptions {
  clock?: Clock;
  /** How stale the cached list may be (ms); default `REVOCATION_REFRESH_MS` or 1000. */
  refreshMs?: number;
}

export class RevocationList {
  private readonly clock: Clock;
  private readonly refreshMs: number;
  private snapshot: { version: string | null; entries: Map<string, SubjectState> } | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly redis: Cluster | Redis,
    options: RevocationListOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    const env = Number(process.env['REVOCATION_REFRESH_MS']);
    this.refreshMs = options.refreshMs ?? (Number.isFinite(env) && env >= 0 ? env : 1000);
  }

  /** The subject's state from the cached list (at most `refreshMs` old). */
  async cached(sub: string): Promise<SubjectState> {
    if (!this.snapshot || this.clock.now() - this.checkedAt >= this.refreshMs) {
      this.refreshing ??= this.refresh().finally(() => {
        this.refreshing = undefined;
      });
      await this.refreshing;
    }
    return this.snapshot?.entries.get(sub) ?? NONE;
  }

  /** The subject's state read from Redis now (the issuer, and checks that must not race a revocation). */
  async fresh(sub: string): Promise<SubjectState> {
    const [v, d] = await this.redis.hmget(revocationKeys.state, `v:${sub}`, `d:${sub}`);
    return { version: Number(v ?? 0) || 0, disabled: d === '1' };
  }

  /** Applies an admin action to a subject; returns its state afterwards. */
  async apply(sub: string, action: RevocationAction): Promise<SubjectState> {
    const state = await runScript(
      this.redis,
      revokeScript,
      [revocationKeys.state, revocationKeys.version],
      [sub, action],
    );
    // This process sees its own change at once.
    this.checkedAt = Number.NEGATIVE_INFINITY;
    return state;
  }

  private async refresh(): Promise<void> {
    const now = this.clock.now();
    const version = await this.redis.get(revocationKeys.version);
    if (!this.snapshot || this.snapshot.version !== version) {
      const fields = version === null ? {} : await this.redis.hgetall(revocationKeys.state);
      this.snapshot = { version, entries: parseState(fields) };
    }
    this.checkedAt = now;
  }
}
