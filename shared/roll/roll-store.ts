import type { Cluster } from 'ioredis';
import { canonicalUsername, userKeys } from '../auth/user-keys';
import { ApiError, notFound } from '../errors';
import { partitionOf } from '../elections/model';
import { electionKeys, partitionKeys, voterRollKeys } from '../redis/keys';
import { defineScript, reply, runScript } from '../redis/scripts';
import { credentialElection, credentialHash, newCredential, newVoterId, votingLink } from './credentials';
import {
  invalidRoll,
  type RollLineError,
  type RollVoterFields,
  type RollVoterInput,
  uniqueField,
  uniqueKeys,
} from './roll-input';

/**
 * An election's voter roll on Redis (issue 17): imported voters, their one-time voting
 * credentials (stored only as SHA-256) and what vote submit and credential sign-in ask
 * of it. Every key is under the election's tag `{el:<id>}` (keys.ts `voterRollKeys`), so
 * an import is one script: all or nothing, duplicates against the roll refused in the
 * same step, and refused once the election is closed.
 */

/** A roll entry as stored: short field names, because a roll may hold 100,000 of them. */
interface StoredEntry {
  n?: string;
  e?: string;
  x?: string;
  u?: string;
  /** weight */
  w: number;
  g?: string;
  /** The `sub` this voter's votes are cast as: the voter id (credential) or the user's id. */
  s: string;
  /** credential state: a(ctive), r(evoked), n(one: an account listed by username). */
  c: 'a' | 'r' | 'n';
  /** SHA-256 of the active credential. Never leaves Redis. */
  h?: string;
}

/** A roll entry as the API shows it (never a credential or its hash). */
export interface RollVoter extends RollVoterFields {
  voterId: string;
  credential: 'active' | 'revoked' | 'none';
}

/** A voter in the import's answer: the credential and its link appear there only. */
export interface ImportedVoter extends Omit<RollVoter, 'credential'> {
  credential?: string;
  link?: string;
}

const STATE = { a: 'active', r: 'revoked', n: 'none' } as const;

function view(voterId: string, raw: string): RollVoter {
  const e = JSON.parse(raw) as StoredEntry;
  return {
    voterId,
    ...(e.n === undefined ? {} : { name: e.n }),
    ...(e.e === undefined ? {} : { email: e.e }),
    ...(e.x === undefined ? {} : { externalId: e.x }),
    ...(e.u === undefined ? {} : { username: e.u }),
    weight: e.w,
    ...(e.g === undefined ? {} : { group: e.g }),
    credential: STATE[e.c],
  };
}

const importScript = defineScript('rollImport', {
  keys: 5,
  parse: (r) => {
    const a = reply.array('rollImport', r, 1);
    const kind = reply.oneOf('rollImport', a[0], ['ok', 'missing', 'closed', 'dup'] as const);
    return { kind, rest: a.slice(1) };
  },
});

const credentialScript = defineScript('rollCredential', {
  keys: 2,
  parse: (r) => {
    const a = reply.array('rollCredential', r, 1);
    const kind = reply.oneOf('rollCredential', a[0], ['ok', 'missing', 'none'] as const);
    return { kind, entry: a[1] === undefined ? '' : reply.string('rollCredential', a[1]) };
  },
});

const lookupScript = defineScript('rollLookup', {
  keys: 2,
  readOnly: true,
  parse: (r) => {
    const a = reply.array('rollLookup', r, 3);
    return {
      count: reply.integer('rollLookup', a[0]),
      voterId: reply.string('rollLookup', a[1]),
      entry: reply.string('rollLookup', a[2]),
    };
  },
});

/** Where an import's voters vote: what the election record gives the listing's `voted`. */
export interface RollElection {
  id: string;
  tags: string[];
  partitions: number;
  partitionSalt: string;
}

/** One credential sign-in's match. */
export interface CredentialMatch {
  electionId: string;
  voterId: string;
  name?: string;
}

export class RollStore {
  constructor(private readonly redis: Cluster) {}

  /**
   * Imports `voters` (validated by parseRollImport) into the roll of `electionId`.
   * Voters listed by username must be existing users (their votes are cast as that
   * user); every other voter gets a new credential, returned here and never again.
   * Throws `400 invalid_roll` (unknown username, duplicate against the roll), `404`,
   * `409 election_closed`.
   */
  async import(
    electionId: string,
    voters: RollVoterInput[],
    webOrigin: string,
  ): Promise<{ imported: number; voters: ImportedVoter[] }> {
    const userIds = await this.userIds(voters);
    const errors: RollLineError[] = [];
    const items: string[][] = [];
    const out: ImportedVoter[] = [];
    for (const v of voters) {
      const voterId = newVoterId();
      let sub = voterId;
      let credential: string | undefined;
      if (v.username !== undefined) {
        const id = userIds.get(canonicalUsername(v.username));
        if (id === undefined) {
          errors.push({ line: v.line, field: 'username', message: `no user is named "${v.username}"` });
          continue;
        }
        sub = id;
      } else credential = newCredential(electionId);
      const entry: StoredEntry = {
        ...(v.name === undefined ? {} : { n: v.name }),
        ...(v.email === undefined ? {} : { e: v.email }),
        ...(v.externalId === undefined ? {} : { x: v.externalId }),
        ...(v.username === undefined ? {} : { u: v.username }),
        w: v.weight,
        ...(v.group === undefined ? {} : { g: v.group }),
        s: sub,
        c: credential === undefined ? 'n' : 'a',
        ...(credential === undefined ? {} : { h: credentialHash(credential) }),
      };
      items.push([voterId, JSON.stringify(entry), entry.h ?? '', ...uniqueKeys(v), `s:${sub}`]);
      const { line: _, ...shown } = v;
      out.push({
        voterId,
        ...shown,
        ...(credential === undefined ? {} : { credential, link: votingLink(webOrigin, credential) }),
      });
    }
    if (errors.length > 0) throw invalidRoll(errors);
    const k = voterRollKeys(electionId);
    const r = await runScript(
      this.redis,
      importScript,
      [electionKeys(electionId).meta, k.entries, k.order, k.unique, k.credentials],
      [JSON.stringify(items)],
    );
    if (r.kind === 'missing') throw notFound('Election');
    if (r.kind === 'closed')
      throw new ApiError(409, 'election_closed', 'This election is closed: its roll can no longer change');
    if (r.kind === 'dup') {
      const dups: RollLineError[] = [];
      // Items map 1:1 to voters here (unknown usernames were refused above).
      for (let i = 0; i + 1 < r.rest.length; i += 2) {
        const index = reply.integer('rollImport', r.rest[i]) - 1;
        const key = reply.string('rollImport', r.rest[i + 1]);
        const line = voters[index]?.line ?? index + 1;
        if (key.startsWith('s:')) {
          dups.push({ line, field: 'username', message: 'this user is already on the roll' });
        } else {
          const field = uniqueField(key);
          dups.push({ line, field, message: `${field} is already on the roll` });
        }
      }
      throw invalidRoll(dups);
    }
    return { imported: out.length, voters: out };
  }

  /** User ids of the usernames an import lists (canonical name → id; unknown ones absent). */
  private async userIds(voters: RollVoterInput[]): Promise<Map<string, string>> {
    const names = [
      ...new Set(voters.flatMap((v) => (v.username === undefined ? [] : [canonicalUsername(v.username)]))),
    ];
    const ids = await Promise.all(names.map((n) => this.redis.hget(userKeys.record(n), 'id')));
    const out = new Map<string, string>();
    names.forEach((n, i) => {
      const id = ids[i];
      if (id) out.set(n, id);
    });
    return out;
  }

  /**
   * The caller's roll entry in `electionId`: `{onRoll: true}` with no weight when the
   * roll is empty (every voter account may vote), the entry's weight when `sub` is on
   * it, `{onRoll: false}` otherwise.
   */
  async voterOf(
    electionId: string,
    sub: string,
  ): Promise<{ onRoll: boolean; empty: boolean; weight: number }> {
    const k = voterRollKeys(electionId);
    const r = await runScript(this.redis, lookupScript, [k.entries, k.unique], [`s:${sub}`]);
    if (r.count === 0) return { onRoll: true, empty: true, weight: 1 };
    if (r.entry === '') return { onRoll: false, empty: false, weight: 0 };
    const e = JSON.parse(r.entry) as StoredEntry;
    return { onRoll: true, empty: false, weight: e.w };
  }

  /** Whose active credential `credential` is, or null (unknown, revoked, reissued, malformed). */
  async matchCredential(credential: unknown): Promise<CredentialMatch | null> {
    const electionId = credentialElection(credential);
    if (electionId === null) return null;
    const k = voterRollKeys(electionId);
    const r = await runScript(
      this.redis,
      lookupScript,
      [k.entries, k.credentials],
      [credentialHash(credential as string)],
    );
    if (r.entry === '') return null;
    const e = JSON.parse(r.entry) as StoredEntry;
    if (e.c !== 'a') return null;
    return { electionId, voterId: r.voterId, ...(e.n === undefined ? {} : { name: e.n }) };
  }

  /**
   * Reissues (new credential, the old one stops signing in) or revokes a voter's
   * credential. The caller then bumps the voter's session version so that tokens made
   * from the old credential are refused too (revocations.ts).
   */
  async changeCredential(
    electionId: string,
    voterId: string,
    action: 'reissue' | 'revoke',
  ): Promise<{ credential?: string; voter: RollVoter }> {
    const credential = action === 'reissue' ? newCredential(electionId) : undefined;
    const k = voterRollKeys(electionId);
    const r = await runScript(
      this.redis,
      credentialScript,
      [k.entries, k.credentials],
      [voterId, action, credential === undefined ? '' : credentialHash(credential)],
    );
    if (r.kind === 'missing') throw notFound('Voter');
    if (r.kind === 'none') {
      throw new ApiError(
        409,
        'no_credential',
        'This voter signs in with an account (listed by username): there is no credential to change',
      );
    }
    return { ...(credential === undefined ? {} : { credential }), voter: view(voterId, r.entry) };
  }

  /** Voters on the roll and how many hold an active credential (the election view's `roll`). */
  async summary(electionId: string): Promise<{ voters: number; credentialsActive: number }> {
    const k = voterRollKeys(electionId);
    const [voters, active] = await Promise.all([this.redis.hlen(k.entries), this.redis.hlen(k.credentials)]);
    return { voters, credentialsActive: active };
  }

  /**
   * One page of the roll in import order, optionally only voters whose name, email,
   * external id, username, group or voter id contains `q` (any case); `voted` from the
   * partitions' one-vote-per-voter records.
   */
  async list(
    e: RollElection,
    opts: { q?: string; cursor?: string; limit: number },
  ): Promise<{ voters: (RollVoter & { voted: boolean })[]; nextCursor?: string }> {
    const k = voterRollKeys(e.id);
    const q = opts.q?.toLowerCase();
    let from = opts.cursor === undefined ? '-inf' : `(${opts.cursor}`;
    const page: { voterId: string; seq: string; raw: string }[] = [];
    let more = false;
    const batch = q === undefined ? opts.limit + 1 : 1000;
    for (;;) {
      const rows = await this.redis.zrangebyscore(k.order, from, '+inf', 'WITHSCORES', 'LIMIT', 0, batch);
      if (rows.length === 0) break;
      const ids = rows.filter((_, i) => i % 2 === 0);
      const raws = await this.redis.hmget(k.entries, ...ids);
      for (let i = 0; i < ids.length; i++) {
        const raw = raws[i];
        if (!raw) continue;
        if (q !== undefined && !matches(ids[i]!, raw, q)) continue;
        if (page.length === opts.limit) {
          more = true;
          break;
        }
        page.push({ voterId: ids[i]!, seq: rows[2 * i + 1]!, raw });
      }
      if (more || rows.length < 2 * batch) break;
      from = `(${rows[rows.length - 1]}`;
    }
    const voted = await Promise.all(
      page.map(({ raw }) => {
        const sub = (JSON.parse(raw) as StoredEntry).s;
        const tag = e.tags[partitionOf(sub, e.partitions, e.partitionSalt)];
        return tag ? this.redis.hexists(partitionKeys(tag).voters, sub) : Promise.resolve(0);
      }),
    );
    const last = page[page.length - 1];
    return {
      voters: page.map((p, i) => ({ ...view(p.voterId, p.raw), voted: voted[i] === 1 })),
      ...(more && last ? { nextCursor: last.seq } : {}),
    };
  }
}

function matches(voterId: string, raw: string, q: string): boolean {
  if (voterId.includes(q)) return true;
  const e = JSON.parse(raw) as StoredEntry;
  return [e.n, e.e, e.x, e.u, e.g].some((f) => f?.toLowerCase().includes(q));
}
