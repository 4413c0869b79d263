import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { RedisAccess } from '../shared/redis/access';
import { ensureDebianPackage } from './system-packages';

/**
 * A local Redis Cluster that needs what ElastiCache with in-transit encryption and
 * AUTH needs: TLS everywhere (clients, the cluster bus, replication) with certificates
 * from a private CA generated here, and one ACL user (the `default` user switched off).
 * `npm run redis -- start --tls` and the tests that prove the system works that way use
 * it. Everything lives in one folder: the CA, one certificate for the nodes (valid for
 * 127.0.0.1 and localhost), one client certificate, and `access.json`.
 */
export interface SecureRedis {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  username: string;
  password: string;
}

const ACCESS_FILE = 'access.json';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Generates a CA, a node certificate and a client certificate (EC P-256, 30 days) and a
 * random ACL password into `dir` (created, private). Existing material is replaced.
 */
export function createSecureRedis(dir: string, username = 'qv'): SecureRedis {
  ensureDebianPackage('openssl', ['openssl']);
  const root = resolve(dir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(root, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '30',
    '-subj',
    '/CN=quorumvote local Redis CA',
  ]);
  const issue = (name: string, cn: string, ext: string): void => {
    openssl(root, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(root, `${name}.ext`), ext);
    openssl(root, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '30',
      '-extfile',
      `${name}.ext`,
    ]);
  };
  issue(
    'node',
    'redis-node',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  issue('client', 'quorumvote-client', 'extendedKeyUsage=clientAuth\n');
  for (const f of ['ca.key', 'node.key', 'client.key']) chmodSync(join(root, f), 0o600);
  const access = { username, password: randomBytes(24).toString('base64url') };
  writeFileSync(join(root, ACCESS_FILE), JSON.stringify(access), { mode: 0o600 });
  return secureRedisAt(root, access);
}

function secureRedisAt(root: string, access: { username: string; password: string }): SecureRedis {
  return {
    dir: root,
    caFile: join(root, 'ca.crt'),
    certFile: join(root, 'node.crt'),
    keyFile: join(root, 'node.key'),
    clientCertFile: join(root, 'client.crt'),
    clientKeyFile: join(root, 'client.key'),
    ...access,
  };
}

/** The material `createSecureRedis` left in `dir`, if any (the CLI's stop and status use it). */
export function loadSecureRedis(dir: string): SecureRedis | undefined {
  const root = resolve(dir);
  const file = join(root, ACCESS_FILE);
  if (!existsSync(file)) return undefined;
  const access = JSON.parse(readFileSync(file, 'utf8')) as { username: string; password: string };
  return secureRedisAt(root, access);
}

/**
 * `redis-server` configuration lines: TLS only (no plaintext port), TLS for the cluster
 * bus and replication, client certificates checked when presented, the default user off
 * and one user with every right; replicas authenticate to their master as that user.
 */
export function secureRedisConfig(s: SecureRedis, port: number): string {
  return [
    'port 0',
    `tls-port ${port}`,
    `tls-cert-file ${s.certFile}`,
    `tls-key-file ${s.keyFile}`,
    `tls-ca-cert-file ${s.caFile}`,
    'tls-cluster yes',
    'tls-replication yes',
    'tls-auth-clients optional',
    'user default off',
    `user ${s.username} on >${s.password} ~* &* +@all`,
    `masteruser ${s.username}`,
    `masterauth ${s.password}`,
    '',
  ].join('\n');
}

/** How a client of this cluster connects (with or without the client certificate). */
export function secureRedisAccess(s: SecureRedis, clientCert = false): RedisAccess {
  return {
    tls: {
      ca: readFileSync(s.caFile, 'utf8'),
      ...(clientCert
        ? { cert: readFileSync(s.clientCertFile, 'utf8'), key: readFileSync(s.clientKeyFile, 'utf8') }
        : {}),
    },
    username: s.username,
    password: s.password,
  };
}

/** The settings a process needs to use this cluster (shared/settings: REDIS_TLS*, REDIS_USERNAME, REDIS_PASSWORD). */
export function secureRedisEnv(s: SecureRedis, clientCert = false): Record<string, string> {
  return {
    REDIS_TLS: '1',
    REDIS_TLS_CA_FILE: s.caFile,
    ...(clientCert ? { REDIS_TLS_CERT_FILE: s.clientCertFile, REDIS_TLS_KEY_FILE: s.clientKeyFile } : {}),
    REDIS_USERNAME: s.username,
    REDIS_PASSWORD: s.password,
  };
}

/**
 * `redis-cli` arguments and environment to reach a node of this cluster (the password
 * goes through REDISCLI_AUTH, never the command line other users can read).
 */
export function secureRedisCli(s: SecureRedis): { args: string[]; env: Record<string, string> } {
  return {
    args: ['--tls', '--cacert', s.caFile, '--user', s.username],
    env: { REDISCLI_AUTH: s.password },
  };
}
