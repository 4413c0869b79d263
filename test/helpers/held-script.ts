import type { Cluster } from 'ioredis';

/**
 * A Redis client that holds every call of one Lua script (by its SHA) right before it
 * is sent, until released: a partition owner "paused" between deciding a batch and
 * writing it (a GC pause, a stopped process), without timing. Everything else passes
 * straight through to the real client.
 */
export function holdScript(
  redis: Cluster,
  sha: string,
): { client: Cluster; reachedWrite: Promise<void>; release: () => void } {
  let reached!: () => void;
  const reachedWrite = new Promise<void>((r) => (reached = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const client = new Proxy(redis, {
    get(target, prop, receiver) {
      if (prop === 'evalsha') {
        const real = Reflect.get(target, prop, target) as (...a: unknown[]) => Promise<unknown>;
        return async (...args: unknown[]) => {
          if (args[0] === sha) {
            reached();
            await gate;
          }
          return real.apply(target, args);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { client, reachedWrite, release };
}
