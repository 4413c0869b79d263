/**
 * `npm run redis -- start|stop|status [--base-port 7000] [--fresh]`: the local Redis
 * Cluster on its own (the topology of `npm start`: 3 masters + 6 replicas). `start`
 * runs the nodes as daemons that outlive this command; daemons are not relaunched when
 * they die (only `npm start` watches its nodes).
 */
import {
  LOCAL_TOPOLOGY,
  clusterHealth,
  redisPorts,
  startRedisCluster,
  stopRedisCluster,
} from './redis-cluster';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const cmd = args[0] ?? 'status';
  const baseIdx = args.indexOf('--base-port');
  const basePort = baseIdx >= 0 ? Number(args[baseIdx + 1]) : 7000;
  if (!Number.isInteger(basePort)) throw new Error('--base-port needs a number');
  switch (cmd) {
    case 'start': {
      const h = await startRedisCluster({
        basePort,
        ...LOCAL_TOPOLOGY,
        daemonize: true,
        fresh: args.includes('--fresh'),
        log: console.log,
      });
      console.log(h.reused ? `Already running: ${h.seeds}` : `Redis Cluster ready: ${h.seeds}`);
      return 0;
    }
    case 'stop': {
      const n = await stopRedisCluster({ basePort, nodes: LOCAL_TOPOLOGY.nodes });
      console.log(n > 0 ? `Stopped ${n} Redis nodes` : 'No Redis node was running');
      return 0;
    }
    case 'status': {
      const h = await clusterHealth(redisPorts(basePort, LOCAL_TOPOLOGY.nodes));
      console.log(JSON.stringify(h, null, 2));
      return h.ok ? 0 : 1;
    }
    default:
      console.error(`Unknown command "${cmd}". Use start, stop or status.`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
