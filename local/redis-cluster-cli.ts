/**
 * `npm run redis -- start|stop|status [--base-port 7000] [--fresh]`: the local Redis
 * Cluster on its own (the topology of `npm start`: 3 masters + 6 replicas, on
 * `REDIS_BASE_PORT` and `REDIS_DATA_DIR` like `npm start`). `start` runs the nodes as
 * daemons that outlive this command; daemons are not relaunched when they die (only
 * `npm start` watches its nodes).
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

type Command = 'start' | 'stop' | 'status';

interface Options {
  command: Command;
  basePort: number;
  dataDir: string;
  fresh: boolean;
}

function usage(): string {
  return [
    'Usage: npm run redis -- start|stop|status [--base-port N] [--fresh]',
    '  start        start the 9 nodes as daemons (reuses their data unless --fresh)',
    '  stop         stop them',
    '  status       cluster health as JSON (the default command)',
    '  --base-port  first port (default REDIS_BASE_PORT, 7000); the nodes use 9 ports from it',
    "  --fresh      start: delete the nodes' data first",
    '  -h, --help   this text',
    'Exit code: 0 done / healthy, 1 failed / unhealthy, 2 bad usage.',
  ].join('\n');
}

function parse(argv: string[]): Options {
  const flags = parseFlags(argv, { 'base-port': { type: 'string' }, fresh: { type: 'boolean' } }, 1);
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
  return { command, basePort, dataDir: settings.REDIS_DATA_DIR, fresh };
}

async function run(o: Options): Promise<number> {
  switch (o.command) {
    case 'start': {
      const h = await startRedisCluster({
        basePort: o.basePort,
        ...LOCAL_TOPOLOGY,
        dataDir: o.dataDir,
        daemonize: true,
        fresh: o.fresh,
        log: console.log,
      });
      console.log(h.reused ? `Already running: ${h.seeds}` : `Redis Cluster ready: ${h.seeds}`);
      return 0;
    }
    case 'stop': {
      const n = await stopRedisCluster({ basePort: o.basePort, nodes: LOCAL_TOPOLOGY.nodes });
      console.log(n > 0 ? `Stopped ${n} Redis nodes` : 'No Redis node was running');
      return 0;
    }
    case 'status': {
      const h = await clusterHealth(redisPorts(o.basePort, LOCAL_TOPOLOGY.nodes));
      console.log(JSON.stringify(h, null, 2));
      return h.ok ? 0 : 1;
    }
  }
}

runCli({ parse, usage, run });
