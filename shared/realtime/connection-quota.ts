import type { Cluster } from 'ioredis';
import { defineScript, reply, runScript } from '../redis/scripts';
import { loadSettings } from '../settings/load';
import { type RealtimeKeys, realtimeKeys } from './keys';

const quotaScript = defineScript('wsConnectionQuota', {
  keys: 1,
  parse: (r) => reply.integer('wsConnectionQuota', r) === 1,
});

/**
 * How many WebSocket connections one user may hold at once (`WS_MAX_CONNECTIONS_PER_USER`,
 * default 20; 0 = no limit). Each connection costs a registry record and fan-out work,
 * so one token must not be able to open thousands. It counts the subject's set of live
 * connections that the registry keeps (`subject` key: added on connect, removed on
 * `$disconnect` or a 410); a connection whose `$disconnect` never ran stops counting
 * when it would have expired anyway.
 */
export class ConnectionQuota {
  constructor(
    private readonly redis: Cluster,
    private readonly max: number,
    private readonly keys: RealtimeKeys = realtimeKeys,
  ) {}

  /** Records the connection; false when the user already holds `max` live connections. */
  async admit(sub: string, connectionId: string, expiresAt: number, nowMs: number): Promise<boolean> {
    if (!(this.max > 0)) return true;
    return runScript(
      this.redis,
      quotaScript,
      [this.keys.subject(sub)],
      [nowMs, connectionId, expiresAt, this.max],
    );
  }

  /** Forgets the connection (idempotent). */
  async release(sub: string, connectionId: string): Promise<void> {
    await this.redis.zrem(this.keys.subject(sub), connectionId);
  }
}

/** `WS_MAX_CONNECTIONS_PER_USER` from the environment (default 20). */
export function maxConnectionsPerUser(env: NodeJS.ProcessEnv = process.env): number {
  return loadSettings(env).WS_MAX_CONNECTIONS_PER_USER;
}
