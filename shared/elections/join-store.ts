import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { electionKeys, joinCodeKey } from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';
import { newJoinCode } from './join-code';

/**
 * Redis state of code-access elections: which election a join code stands for, and
 * which identities joined it (docs/architecture.md "Redis keys" lists the keys).
 */
const joinScript = defineScript('joinElection', {
  keys: 1,
  parse: (r) => reply.integer('joinElection', r),
});

/** What a new code-access election stores: its join code and its join key (hex, secret). */
export interface JoinSecrets {
  joinCode: string;
  joinKey: string;
}

/** Outcome of {@link JoinStore.join}. */
export type JoinOutcome = 'joined' | 'rejoined' | 'full';

/** Codes tried before giving up; with 2^40 codes, a second try is already rare. */
const RESERVE_ATTEMPTS = 8;

/**
 * Reserves a fresh join code for election `electionId` (SET NX: a code taken by another
 * election is never overwritten; another code is drawn instead) and makes its join key.
 * `draw` makes the candidate codes (tests force a collision with it).
 */
export async function reserveJoinCode(
  redis: Cluster,
  electionId: string,
  draw: () => string = newJoinCode,
): Promise<JoinSecrets> {
  for (let i = 0; i < RESERVE_ATTEMPTS; i++) {
    const joinCode = draw();
    if ((await redis.set(joinCodeKey(joinCode), electionId, 'NX')) === 'OK') {
      return { joinCode, joinKey: randomBytes(32).toString('hex') };
    }
  }
  throw new Error(`no free join code after ${RESERVE_ATTEMPTS} attempts`);
}

export class JoinStore {
  constructor(private readonly redis: Cluster) {}

  /** The election a (canonical) join code stands for, or null. */
  electionOf(code: string): Promise<string | null> {
    return this.redis.get(joinCodeKey(code));
  }

  /** True when `sub` joined the election before (a rejoin costs no join limit). */
  async hasJoined(electionId: string, sub: string): Promise<boolean> {
    return (await this.redis.sismember(electionKeys(electionId).joined, sub)) === 1;
  }

  /** Records `sub` as joined unless the election already holds `cap` identities (0 = no cap). */
  async join(electionId: string, sub: string, cap: number): Promise<JoinOutcome> {
    const r = await runScript(this.redis, joinScript, [electionKeys(electionId).joined], [sub, cap]);
    return r === 1 ? 'joined' : r === 0 ? 'rejoined' : 'full';
  }

  /** How many identities joined the election: exact (the size of one set). */
  joined(electionId: string): Promise<number> {
    return this.redis.scard(electionKeys(electionId).joined);
  }
}
