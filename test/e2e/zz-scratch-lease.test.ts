import { TestCluster, eventually } from '../helpers/stack';
import { startIsolatedRedis } from '../helpers/tcp-proxy';
import { startCoordinator } from '../../local/stack';
import { freePort } from '../../local/ports';

test('scratch', async () => {
  const redis = await startIsolatedRedis();
  const members = ['a1', 'a2', 'a3'];
  const logs = new Map<string, string[]>();
  const cl = new TestCluster(members, {}, redis.seeds);
  try {
    for (const id of members) {
      const port = await freePort();
      const lines: string[] = [];
      logs.set(id, lines);
      const proc = await startCoordinator({ nodeId: id, adminPort: port, redisSeeds: redis.seeds, members, env: { LOG_LEVEL: 'info', LEADER_LEASE_MS: '20000' }, onLine: (_n, l) => lines.push(l) });
      cl.nodes.set(id, { id, adminPort: port, url: `http://127.0.0.1:${port}`, proc });
    }
    for (let round = 0; round < 5; round++) {
      const { leader } = await cl.waitForLeader(10000);
      const from = logs.get(leader)!.length;
      cl.node(leader).proc.signal('SIGSTOP');
      const t0 = Date.now();
      await eventually(async () => {
        for (const id of members.filter((m) => m !== leader)) {
          const s = await cl.status(id);
          if (s?.['role'] === 'leader') return true;
        }
        return false;
      }, 10000);
      await new Promise((r) => setTimeout(r, 300));
      cl.node(leader).proc.signal('SIGCONT');
      await new Promise((r) => setTimeout(r, 1500));
      console.log(round, leader, Date.now() - t0, logs.get(leader)!.slice(from).map((l) => { const j = JSON.parse(l); return `${j.msg} ${j.role ?? ''} ${j.term ?? ''} ${j.leader ?? ''}`; }).join(' | '));
    }
  } finally {
    await cl.stop();
    await redis.stop();
  }
}, 120000);
