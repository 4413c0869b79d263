import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';

/**
 * Group commit for `WAIT`. `WAIT n t` blocks the connection that sends it until n
 * replicas have every write that connection sent before it, and a Cluster client has
 * one connection per master, so a `WAIT` per request queues every later command of the
 * process behind it. Instead, the requests whose writes were answered in one event-loop
 * turn on the same master connection share one `WAIT`, sent on that connection after
 * those replies: it covers all of them, so each request still learns how many replicas
 * have its write.
 *
 * A WAIT only covers writes sent on the same server-side connection, and ioredis
 * silently reconnects (and resends unanswered commands) on a new one. So the WAIT is
 * followed by `CLIENT ID` on the same connection: a caller that read `CLIENT ID` just
 * before its write and gets the same id back knows that the write, its WAIT and
 * everything between ran on one connection (ids are never reused, and a connection
 * only changes by reconnecting).
 */
/** How much later than its own timeout a WAIT may answer before its connection is dropped. */
const WAIT_GRACE_MS = 1000;

/** The connection to the master that serves a key's slot. */
export interface MasterTarget {
  /** `host:port` as in the client's slot map. */
  nodeKey: string;
  node: Redis;
}

/** What one shared WAIT found. */
export interface WaitOutcome {
  /** Replicas that acknowledged every write of the connection sent before the WAIT. */
  replicas: number;
  /** `CLIENT ID` of the connection the WAIT ran on; null when it could not be read. */
  clientId: number | null;
}

export class ReplicaWaits {
  private readonly pending = new Map<Redis, Map<string, Promise<WaitOutcome>>>();

  constructor(private readonly redis: Cluster) {}

  /**
   * The connection of `key`'s master, when this client is ready and knows it; else null.
   * Commands sent on it go out in order on one connection at a time.
   */
  target(key: string): MasterTarget | null {
    const found = this.locate(key);
    // A connection still (re)connecting may be to a master that just died: its queue
    // would only time out. The caller answers "retry" instead.
    return found && found.node.status === 'ready' ? found : null;
  }

  /**
   * The connection of `key`'s master in the client's slot map, whatever its state (a
   * Cluster client connects to a node lazily, on its first command: `wait` until then).
   */
  locate(key: string): MasterTarget | null {
    if (this.redis.status !== 'ready') return null;
    const nodeKey = (this.redis as unknown as { slots: string[][] }).slots[calculateSlot(key)]?.[0];
    if (!nodeKey) return null;
    const node = this.redis
      .nodes('master')
      .find((n: Redis) => `${n.options.host}:${n.options.port}` === nodeKey);
    return node ? { nodeKey, node } : null;
  }

  /**
   * Waits until `replicas` replicas of the target master have every write this client
   * sent on its connection so far, or `timeoutMs` passed. Call it once the write it must
   * cover was answered: the shared WAIT goes out at the end of the turn (setImmediate),
   * after every reply already received, followed by `CLIENT ID` (see the class comment).
   */
  after(target: MasterTarget, replicas: number, timeoutMs: number): Promise<WaitOutcome> {
    const group = `${replicas}|${timeoutMs}`;
    let groups = this.pending.get(target.node);
    if (!groups) {
      groups = new Map();
      this.pending.set(target.node, groups);
    }
    const joined = groups.get(group);
    if (joined) return joined;
    const wait = new Promise<WaitOutcome>((resolve, reject) => {
      setImmediate(() => {
        const open = this.pending.get(target.node);
        open?.delete(group);
        if (open?.size === 0) this.pending.delete(target.node);
        // Redis should answer by `timeoutMs`. A WAIT on a replica just promoted by a
        // failover was seen blocked for good (Redis 7.0), and a blocked connection
        // holds every later command of this process to that master: past a grace
        // period, report no replica and drop the connection, so the cluster client
        // reconnects (and re-reads the slot map) instead of timing out forever.
        const guard = setTimeout(() => {
          resolve({ replicas: 0, clientId: null });
          target.node.disconnect();
        }, timeoutMs + WAIT_GRACE_MS);
        guard.unref();
        const waited = target.node.call('WAIT', replicas, timeoutMs) as Promise<number>;
        const id = target.node.call('CLIENT', 'ID') as Promise<number>;
        Promise.all([waited, id]).then(
          ([n, clientId]) => {
            clearTimeout(guard);
            resolve({ replicas: n, clientId });
          },
          (err: unknown) => {
            clearTimeout(guard);
            reject(err);
          },
        );
      });
    });
    groups.set(group, wait);
    return wait;
  }
}
