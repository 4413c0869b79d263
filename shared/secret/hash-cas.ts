import type { Cluster } from 'ioredis';
import { defineScript, reply, runScript } from '../redis/scripts';

/** See shared/redis/lua/hash-cas.lua: write-once (or compare-and-set) of one hash field. */
export const hashCasScript = defineScript('hashCas', {
  keys: 1,
  parse: (r) => {
    const a = reply.array('hashCas', r, 2);
    return { written: reply.integer('hashCas', a[0]) === 1, current: reply.string('hashCas', a[1]) };
  },
});

/** Sets `field` to `value` if it holds `expected` ('' = absent); returns what is there otherwise. */
export function hashCas(
  redis: Cluster,
  key: string,
  field: string,
  expected: string,
  value: string,
): Promise<{ written: boolean; current: string }> {
  return runScript(redis, hashCasScript, [key], [field, expected, value]);
}
