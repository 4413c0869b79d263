import { systemClock } from '../shared/clock';
import { readClusterView } from '../shared/cluster-view';
import { readResults } from '../shared/votes/read';
import { requireRole } from './lib/auth';
import { elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';
import type { ClusterResponse } from '../shared/api-bodies';

/** `GET /cluster` (admin): coordinators, leader, Redis Cluster health, pipeline queues. */
export const handler = httpHandler('GET /cluster', async (req) => {
  await requireRole(req, 'admin');
  const view = await readClusterView(redis(), systemClock);
  const active = (await Promise.all((await elections.activeIds()).map((id) => elections.get(id)))).filter(
    (e) => e !== null,
  );
  const results = await Promise.all(active.map((e) => readResults(redis(), systemClock, e)));
  const queues = {
    pending: results.reduce((a, r) => a + r.pending, 0),
    finalized: results.reduce((a, r) => a + r.finalized, 0),
    rejected: results.reduce((a, r) => a + r.rejected, 0),
    activeElections: active.length,
  };
  return { status: 200, body: { ...view, queues } satisfies ClusterResponse };
});
