import { createHash } from 'node:crypto';
import type { Cluster, Redis, RedisKey } from 'ioredis';
import { luaScripts } from './lua-scripts.generated';

/**
 * Typed Lua script calls (CONVENTIONS 5). A script is declared once, next to the
 * module that owns it, as a one-liner:
 *
 * ```ts
 * export const finalizeVotes = defineScript('finalizeVotes', { keys: 9, parse: parseFinalizeReply });
 * const result = await runScript(redis, finalizeVotes, keys, args);
 * ```
 *
 * The source comes from the generated `luaScripts` (so a Lambda never reads files).
 * `runScript` sends EVALSHA and falls back to EVAL when a node answers NOSCRIPT (new
 * node, failover, SCRIPT FLUSH).
 */

/** Every script name `scripts/gen-lua.mjs` generated: camelCased file names. */
export type ScriptName = keyof typeof luaScripts;

/** A client that can run scripts: a Cluster in every process, a Redis in small tools. */
export type ScriptClient = Cluster | Redis;

/** One ARGV value; numbers are sent as their decimal text. */
export type ScriptArg = string | number | Buffer;

/** A script declared with {@link defineScript}: its source, arity and reply parser. */
export interface ScriptDefinition<R> {
  readonly name: ScriptName;
  readonly lua: string;
  /** Exact number of KEYS the script takes; checked before every call. */
  readonly numberOfKeys: number;
  /** True for scripts that write nothing: ioredis may route them to replicas if `scaleReads` allows. */
  readonly readOnly: boolean;
  /** Checks the raw reply's shape and converts it; throws {@link ScriptReplyError} otherwise. */
  readonly parse: (reply: unknown) => R;
  /** SHA-1 of the source, for EVALSHA. */
  readonly sha: string;
}

/**
 * A script answered something its parser does not accept. This is a bug (script and
 * wrapper disagree) or a foreign value in a key, never a condition to retry.
 */
export class ScriptReplyError extends Error {
  readonly code = 'script_reply_invalid';
  constructor(
    readonly script: string,
    readonly reply: unknown,
    expected: string,
  ) {
    super(`Script ${script} replied ${safeJson(reply)}; expected ${expected}`);
    this.name = 'ScriptReplyError';
  }
}

/** Declares a script by its generated name; see the module comment for the pattern. */
export function defineScript<R>(
  name: ScriptName,
  spec: { keys: number; readOnly?: boolean; parse: (reply: unknown) => R },
): ScriptDefinition<R> {
  const lua: string = luaScripts[name];
  if (!Number.isInteger(spec.keys) || spec.keys < 0) throw new RangeError(`Script ${name}: bad key count`);
  return Object.freeze({
    name,
    lua,
    numberOfKeys: spec.keys,
    readOnly: spec.readOnly ?? false,
    parse: spec.parse,
    sha: createHash('sha1').update(lua).digest('hex'),
  });
}

/**
 * Runs a script and returns its parsed reply. Redis errors (including the script's own
 * error replies) reject unchanged; a reply of the wrong shape rejects with
 * {@link ScriptReplyError}.
 */
export async function runScript<R>(
  redis: ScriptClient,
  script: ScriptDefinition<R>,
  keys: readonly RedisKey[],
  args: readonly ScriptArg[],
): Promise<R> {
  checkKeys(script, keys);
  // Plain EVALSHA (EVAL once a node answers NOSCRIPT: a new node, a failover, SCRIPT
  // FLUSH): lighter in the client than ioredis' defineCommand machinery, which measured
  // ~40% more CPU per call, and routed and auto-pipelined by its keys like any command.
  let reply: unknown;
  try {
    reply = await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!isNoScriptError(err)) throw err;
    reply = await redis.eval(script.lua, keys.length, ...keys, ...args);
  }
  return script.parse(reply);
}

/**
 * True when a node did not know the script (NOSCRIPT), also when the cluster client
 * wraps that answer: ioredis counts every retry of a command (connection closed, MOVED,
 * CLUSTERDOWN during a failover) against `maxRedirections` and, once they are used up,
 * rejects with "Too many Cluster redirections. Last error: ReplyError: NOSCRIPT ..."
 * whatever the last answer was. A replica just promoted has an empty script cache, so
 * that is exactly the answer seen at the end of a failover; EVAL then succeeds.
 */
export function isNoScriptError(err: unknown): boolean {
  return (
    err instanceof Error &&
    /^(Too many Cluster redirections\. Last error: (ReplyError: )?)?NOSCRIPT/.test(err.message)
  );
}

/**
 * The part of a key Redis Cluster hashes to pick its slot: the first non-empty
 * `{...}` section, else the whole key (Redis Cluster spec, "Hash tags").
 */
export function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

// A script's keys must share one slot (CONVENTIONS 7). Checking the hashed part here
// fails the same way on a single node as on a cluster, and names the keys.
function checkKeys(script: ScriptDefinition<unknown>, keys: readonly RedisKey[]): void {
  if (keys.length !== script.numberOfKeys) {
    throw new TypeError(`Script ${script.name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  let first: string | undefined;
  for (const key of keys) {
    const part = hashedPart(typeof key === 'string' ? key : key.toString('latin1'));
    first ??= part;
    if (part !== first) {
      throw new TypeError(`Script ${script.name}: keys must share one hash tag, got ${keys.join(', ')}`);
    }
  }
}

/** Reply checks for script parsers: each returns the typed value or throws {@link ScriptReplyError}. */
export const reply = {
  integer(script: string, value: unknown): number {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    throw new ScriptReplyError(script, value, 'an integer');
  },
  array(script: string, value: unknown, minLength = 0): unknown[] {
    if (Array.isArray(value) && value.length >= minLength) return value;
    throw new ScriptReplyError(script, value, `an array of at least ${minLength} items`);
  },
  string(script: string, value: unknown): string {
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    throw new ScriptReplyError(script, value, 'a string');
  },
  oneOf<T extends number | string>(script: string, value: unknown, allowed: readonly T[]): T {
    if (allowed.includes(value as T)) return value as T;
    throw new ScriptReplyError(script, value, `one of ${allowed.join(', ')}`);
  },
};

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
