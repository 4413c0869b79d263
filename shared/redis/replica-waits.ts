import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';

/**
 * Group commit for `WAIT`. `WAIT n t` blocks the connection that sends it until n
 * replicas have every write that connection sent before it, and a Cluster client has
 * one connection per master, so a `WAIT` per request queues every later command of the
 * process behind it. Instead, the requests of one event-loop turn that wrote to the same
 * master share one `WAIT`, sent right after their writes on the same connection: it
 * covers all of them, so each request still learns how many replicas have its write.
 */
/** How much later than its own timeout a WAIT may answer before its connection is dropped. */
const WAIT_GRACE_MS = 1000;

export class ReplicaWaits {
  private readonly pending = new Map<string, Promise<number>>();

  constructor(private readonly redis: Cluster) {}

  /**
   * The connection of `key`'s master, when this client is ready and knows it; else null.
   * Writes to it go out in order, so a WAIT sent there later covers them.
   */
  target(key: string): { nodeKey: string; node: Redis } | null {
    if (this.redis.status !== 'ready') return null;
    const nodeKey = (this.redis as unknown as { slots: string[][] }).slots[calculateSlot(key)]?.[0];
    if (!nodeKey) return null;
    const node = this.redis
      .nodes('master')
      .find((n: Redis) => `${n.options.host}:${n.options.port}` === nodeKey);
    // A connection still (re)connecting may be to a master that just died: its queue
    // would only time out. The caller falls back to a routed pipeline.
    return node && node.status === 'ready' ? { nodeKey, node } : null;
  }

  /**
   * Waits until `replicas` replicas of the target master have every write this client
   * sent it so far, or `timeoutMs` passed; resolves with how many did. Call it right
   * after issuing the write it must cover: the shared WAIT goes out at the end of the
   * turn (setImmediate), behind every write issued before it, auto-pipelined ones too.
   */
  after(target: { nodeKey: string; node: Redis }, replicas: number, timeoutMs: number): Promise<number> {
    const group = `${target.nodeKey}|${replicas}|${timeoutMs}`;
    const joined = this.pending.get(group);
    if (joined) return joined;
    const wait = new Promise<number>((resolve, reject) => {
      setImmediate(() => {
        this.pending.delete(group);
        // Redis should answer by `timeoutMs`. A WAIT on a replica just promoted by a
        // failover was seen blocked for good (Redis 7.0), and a blocked connection
        // holds every later command of this process to that master: past a grace
        // period, report no replica and drop the connection, so the cluster client
        // reconnects (and re-reads the slot map) instead of timing out forever.
        const guard = setTimeout(() => {
          resolve(0);
          target.node.disconnect();
        }, timeoutMs + WAIT_GRACE_MS);
        guard.unref();
        (target.node.call('WAIT', replicas, timeoutMs) as Promise<number>).then(
          (n) => {
            clearTimeout(guard);
            resolve(n);
          },
          (err: unknown) => {
            clearTimeout(guard);
            reject(err);
          },
        );
      });
    });
    this.pending.set(group, wait);
    return wait;
  }
}
