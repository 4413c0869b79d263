/**
 * `npm run redis -- start|stop|status [--base-port 7000] [--fresh] [--tls]`: the local Redis
 * Cluster on its own (the topology of `npm start`: 3 masters + 6 replicas, on
 * `REDIS_BASE_PORT` and `REDIS_DATA_DIR` like `npm start`). `start` runs the nodes as
 * daemons that outlive this command; daemons are not relaunched when they die (only
 * `npm start` watches its nodes). `start --tls` makes the cluster ElastiCache-like: TLS
 * only, with a CA generated into `<REDIS_DATA_DIR>/tls`, and one ACL user; it prints the
 * settings a process needs to use it. `stop` and `status` find that material themselves.
 */
import { UsageError, numberFlag, parseFlags, runCli } from './cli';
import {
  LOCAL_TOPOLOGY,
  clusterHealth,
  redisPorts,
  startRedisCluster,
  stopRedisCluster,
} from './redis-cluster';
import { loadSettings } from '../shared/settings/load';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureRedis, loadSecureRedis, secureRedisAccess, secureRedisEnv } from './redis-tls';

type Command = 'start' | 'stop' | 'status';

interface Options {
  command: Command;
  basePort: number;
  dataDir: string;
  fresh: boolean;
  tls: boolean;
}

function usage(): string {
  return [
    'Usage: npm run redis -- start|stop|status [--base-port N] [--fresh] [--tls]',
    '  start        start the 9 nodes as daemons (reuses their data unless --fresh)',
    '  stop         stop them',
    '  status       cluster health as JSON (the default command)',
    '  --base-port  first port (default REDIS_BASE_PORT, 7000); the nodes use 9 ports from it',
    "  --fresh      start: delete the nodes' data first",
    '  --tls        start: TLS only (generated CA in <REDIS_DATA_DIR>/tls) and one ACL user, like',
    '               ElastiCache; prints the REDIS_* settings to use it (switching modes starts fresh)',
    '  -h, --help   this text',
    'Exit code: 0 done / healthy, 1 failed / unhealthy, 2 bad usage.',
  ].join('\n');
}

function parse(argv: string[]): Options {
  const flags = parseFlags(
    argv,
    { 'base-port': { type: 'string' }, fresh: { type: 'boolean' }, tls: { type: 'boolean' } },
    1,
  );
  const command = flags.positionals[0] ?? 'status';
  if (command !== 'start' && command !== 'stop' && command !== 'status') {
    throw new UsageError(`Unknown command "${command}". Use start, stop or status.`);
  }
  const settings = loadSettings();
  const basePort =
    numberFlag(flags, 'base-port', { int: true, min: 1, max: 65535 - LOCAL_TOPOLOGY.nodes }) ??
    settings.REDIS_BASE_PORT;
  const fresh = flags.values['fresh'] === true;
  if (fresh && command !== 'start') throw new UsageError('--fresh only applies to start');
  const tls = flags.values['tls'] === true;
  if (tls && command !== 'start')
    throw new UsageError('--tls only applies to start (stop and status find out)');
  return { command, basePort, dataDir: settings.REDIS_DATA_DIR, fresh, tls };
}

async function run(o: Options): Promise<number> {
  const tlsDir = join(o.dataDir, 'tls');
  const existing = loadSecureRedis(tlsDir);
  const access = existing ? secureRedisAccess(existing) : {};
  switch (o.command) {
    case 'start': {
      // New material only for a fresh TLS cluster: a restarted one keeps its CA and user.
      const secure = o.tls ? (!o.fresh && existing ? existing : createSecureRedis(tlsDir)) : undefined;
      if (!o.tls && existing) rmSync(tlsDir, { recursive: true, force: true });
      const h = await startRedisCluster({
        basePort: o.basePort,
        ...LOCAL_TOPOLOGY,
        dataDir: o.dataDir,
        daemonize: true,
        fresh: o.fresh,
        log: console.log,
        ...(secure ? { secure } : {}),
      });
      console.log(h.reused ? `Already running: ${h.seeds}` : `Redis Cluster ready: ${h.seeds}`);
      if (secure) {
        // The password itself stays in its private file; print how to read it.
        const env: Record<string, string> = { REDIS_SEEDS: h.seeds, ...secureRedisEnv(secure) };
        env['REDIS_PASSWORD'] = `$(node -p 'require("${join(secure.dir, 'access.json')}").password')`;
        console.log('Settings for the processes that use it:');
        for (const [k, v] of Object.entries(env)) console.log(`  export ${k}=${v}`);
      }
      return 0;
    }
    case 'stop': {
      const n = await stopRedisCluster({ basePort: o.basePort, nodes: LOCAL_TOPOLOGY.nodes, access });
      console.log(n > 0 ? `Stopped ${n} Redis nodes` : 'No Redis node was running');
      return 0;
    }
    case 'status': {
      const h = await clusterHealth(redisPorts(o.basePort, LOCAL_TOPOLOGY.nodes), access);
      console.log(JSON.stringify(h, null, 2));
      return h.ok ? 0 : 1;
    }
  }
}

runCli({ parse, usage, run });
