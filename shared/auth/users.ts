import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { type Clock, systemClock } from '../clock';
import { ApiError } from '../errors';
import { base32 } from './base32';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  needsRehash,
  type ScryptParams,
  verifyPassword,
} from './passwords';
import { isRole, type Role } from './roles';
import {
  isValidUsername,
  type NewUser,
  PASSWORD_MAX_CHARS,
  passwordChars,
  validateNewUser,
} from './user-input';
import { canonicalUsername, userKeys } from './user-keys';
import { runCreateUser, runSetUserPassword } from './user-scripts';

/**
 * The local identity provider's user directory on Redis Cluster: one hash per user
 * under its own hash tag, created atomically by a Lua script, with scrypt password
 * hashes. Usernames are unique case-insensitively (see user-keys.ts).
 */

/** A user as the API shows it (never the password hash). */
export interface User {
  /** Opaque id, `usr_` + 16 base32 characters; the `sub` of the user's tokens. */
  id: string;
  username: string;
  role: Role;
  /** ISO-8601 UTC. */
  createdAt: string;
}

/** `usr_` + 16 base32 characters (80 random bits). */
export function newUserId(): string {
  return `usr_${base32(randomBytes(10))}`;
}

export interface UserStoreOptions {
  clock?: Clock;
  /** scrypt cost for new hashes (tests may lower it; stored hashes carry their own). */
  scrypt?: ScryptParams;
}

interface StoredUser extends User {
  passwordHash: string;
}

/** The user directory: create users, check passwords, reset a password. */
export class UserStore {
  private readonly clock: Clock;
  private readonly scrypt: ScryptParams;
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly redis: Cluster | Redis,
    options: UserStoreOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
  }

  /**
   * Creates a user; throws `400 invalid_request` for bad input and `409 user_exists`
   * when the username (case-insensitively) is taken.
   */
  async create(input: NewUser): Promise<User> {
    const { username, password, role } = validateNewUser(input);
    const passwordHash = await hashPassword(password, this.scrypt);
    const user: User = {
      id: newUserId(),
      username,
      role,
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    const created = await runCreateUser(this.redis, userKeys.record(username), user.id, {
      id: user.id,
      username: user.username,
      role: user.role,
      passwordHash,
      createdAt: user.createdAt,
    });
    if (!created) throw new ApiError(409, 'user_exists', `Username "${username}" is already taken`);
    // The directory of GET /users; a failure here leaves the user to the index's rebuild scan.
    await this.redis.zadd(userKeys.index, 0, canonicalUsername(username));
    return user;
  }

  /** The user named `username` (any case), or null. */
  async get(username: string): Promise<User | null> {
    const stored = await this.read(username);
    if (!stored) return null;
    const { passwordHash: _, ...user } = stored;
    return user;
  }

  /**
   * The user when `password` is theirs, else null. Unknown or malformed usernames
   * still pay for one scrypt run, so response time does not reveal which names exist.
   * A hash made with weaker parameters than this store's is replaced by one at the
   * current cost (the password is at hand only now), unless it changed meanwhile.
   */
  async verifyCredentials(username: string, password: string): Promise<User | null> {
    if (typeof username !== 'string' || typeof password !== 'string') return null;
    const stored = isValidUsername(username) ? await this.read(username) : null;
    if (!stored || passwordChars(password) > PASSWORD_MAX_CHARS) {
      await verifyPassword(password.slice(0, 4 * PASSWORD_MAX_CHARS), await this.dummy());
      return null;
    }
    if (!(await verifyPassword(password, stored.passwordHash))) return null;
    const { passwordHash, ...user } = stored;
    if (needsRehash(passwordHash, this.scrypt)) {
      await runSetUserPassword(
        this.redis,
        userKeys.record(username),
        stored.id,
        await hashPassword(password, this.scrypt),
        new Date(this.clock.now()).toISOString(),
        passwordHash,
      );
    }
    return user;
  }

  /**
   * Replaces a user's password (validated like on create). Returns false when the user
   * does not exist. Used by the demo seeding so printed passwords stay true.
   */
  async setPassword(username: string, password: string): Promise<boolean> {
    const stored = isValidUsername(username) ? await this.read(username) : null;
    if (!stored) return false;
    validateNewUser({ username: stored.username, password, role: stored.role });
    const passwordHash = await hashPassword(password, this.scrypt);
    return runSetUserPassword(
      this.redis,
      userKeys.record(username),
      stored.id,
      passwordHash,
      new Date(this.clock.now()).toISOString(),
    );
  }

  private async read(username: string): Promise<StoredUser | null> {
    const h = await this.redis.hgetall(userKeys.record(username));
    if (!h || Object.keys(h).length === 0) return null;
    const { id, username: name, role, passwordHash, createdAt } = h;
    if (!id || !name || !isRole(role) || !passwordHash || !createdAt) {
      // Records are only ever written whole by create-user; anything else is corruption.
      throw new Error(`Corrupt user record ${userKeys.record(username)}`);
    }
    return { id, username: name, role, passwordHash, createdAt };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomBytes(16).toString('base64url'), this.scrypt);
    return this.dummyHash;
  }
}
