import { hashedPart } from '../redis/scripts';

/**
 * The Redis keys of one mutex resource. The lock and its fencing counter share a
 * hash tag, so one script can test the lock and issue the token atomically.
 */
export interface MutexKeys {
  /** string: the holder's random token, with the lease as its PX expiry. */
  readonly lock: string;
  /** string: the last fencing token issued for the resource (INCR, never expires). */
  readonly fence: string;
}

/**
 * Builds a resource's mutex keys (CONVENTIONS 7; kept here, next to the scripts that
 * use them). A resource that already carries a hash tag, such as a partition's
 * `{e:abc:3}`, keeps it, so the lock lives in the slot of the data it guards and a
 * partition script can check the lock's fence counter itself; any other resource is
 * wrapped as `{resource}`.
 *
 * @example mutexKeys('{e:abc:3}') // { lock: '{e:abc:3}:lock', fence: '{e:abc:3}:lock-fence' }
 * @example mutexKeys('reports') // { lock: '{reports}:lock', fence: '{reports}:lock-fence' }
 */
export function mutexKeys(resource: string): MutexKeys {
  if (resource.length === 0) throw new RangeError('A mutex resource name cannot be empty');
  const base = hasHashTag(resource) ? resource : `{${resource}}`;
  return { lock: `${base}:lock`, fence: `${base}:lock-fence` };
}

/** True when Redis Cluster would hash only a `{...}` part of this name. */
export function hasHashTag(name: string): boolean {
  return hashedPart(name) !== name;
}
