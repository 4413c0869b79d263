import { readFileSync } from 'node:fs';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { SettingsError, loadSettings } from '../settings/load';
import type { Settings } from '../settings/schema';

/**
 * How a process proves itself to Redis and protects the connection: TLS (a private CA,
 * optionally a client certificate) and an AUTH/ACL user. ElastiCache with in-transit
 * encryption accepts nothing else, and a self-run cluster reachable from other hosts
 * should not either. Every client of every process gets it from the same settings
 * (`REDIS_TLS*`, `REDIS_USERNAME`, `REDIS_PASSWORD`), so functions, coordinators and
 * tools can never disagree on how to connect.
 */
export interface RedisAccess {
  /** TLS on, with what to trust and what to present; absent = plaintext. */
  tls?: {
    /** PEM CA bundle to trust instead of the system's (a private CA); absent = system CAs. */
    ca?: string;
    /** PEM client certificate and key, for servers that ask for one (`tls-auth-clients yes`). */
    cert?: string;
    key?: string;
    /** Name to check the certificate against when it differs from the address dialled. */
    servername?: string;
  };
  /** ACL user; absent with a password = the `default` user (`AUTH <password>`). */
  username?: string;
  password?: string;
}

function readPem(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`Bad setting: ${variable} cannot be read (${(err as Error).message})`);
  }
}

/**
 * The access settings, files read. Throws a `SettingsError` naming the variable when they
 * contradict each other: a certificate without its key, or TLS files with TLS off (a
 * half-configured TLS must not silently fall back to plaintext).
 */
export function redisAccessFromSettings(s: Settings = loadSettings()): RedisAccess {
  const files = { REDIS_TLS_CA_FILE: s.REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE: s.REDIS_TLS_CERT_FILE };
  if (!s.REDIS_TLS) {
    const set = Object.entries({ ...files, REDIS_TLS_KEY_FILE: s.REDIS_TLS_KEY_FILE })
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k);
    if (set.length > 0) throw new SettingsError(`Bad setting: ${set.join(', ')} set but REDIS_TLS is not 1`);
  }
  if ((s.REDIS_TLS_CERT_FILE === undefined) !== (s.REDIS_TLS_KEY_FILE === undefined)) {
    throw new SettingsError('Bad setting: REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE go together');
  }
  return {
    ...(s.REDIS_TLS
      ? {
          tls: {
            ...(s.REDIS_TLS_CA_FILE ? { ca: readPem(s.REDIS_TLS_CA_FILE, 'REDIS_TLS_CA_FILE') } : {}),
            ...(s.REDIS_TLS_CERT_FILE && s.REDIS_TLS_KEY_FILE
              ? {
                  cert: readPem(s.REDIS_TLS_CERT_FILE, 'REDIS_TLS_CERT_FILE'),
                  key: readPem(s.REDIS_TLS_KEY_FILE, 'REDIS_TLS_KEY_FILE'),
                }
              : {}),
            ...(s.REDIS_TLS_SERVERNAME ? { servername: s.REDIS_TLS_SERVERNAME } : {}),
          },
        }
      : {}),
    ...(s.REDIS_USERNAME ? { username: s.REDIS_USERNAME } : {}),
    ...(s.REDIS_PASSWORD ? { password: s.REDIS_PASSWORD } : {}),
  };
}

/** The per-connection ioredis options for `access` (TLS, username, password). */
export function redisAccessOptions(access: RedisAccess): Pick<RedisOptions, 'tls' | 'username' | 'password'> {
  return {
    ...(access.tls ? { tls: { ...access.tls } } : {}),
    ...(access.username ? { username: access.username } : {}),
    ...(access.password ? { password: access.password } : {}),
  };
}

/**
 * The Cluster-level options TLS needs: nodes are dialled by the name they announce, not
 * a resolved IP, so the certificate's name can be checked (ElastiCache's nodes announce
 * hostnames that their certificates carry).
 */
export function redisAccessClusterOptions(access: RedisAccess): Pick<ClusterOptions, 'dnsLookup'> {
  return access.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {};
}
