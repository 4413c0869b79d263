import type { StatusReport } from './report';
import { fmtMs } from './report';

/** The text of `npm run status`: a table per layer, then the verdict and every problem. */

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

export function render(r: StatusReport): string {
  const out: string[] = [];
  out.push(`quorumvote cluster status at ${r.at}`);
  out.push('');
  const up = r.coordinators.filter((c) => c.health === 'healthy').length;
  if (!r.redis.reachable && r.coordinators.length === 0) {
    out.push('Coordinators: unknown (they are listed in Redis, which does not answer)');
  } else {
    out.push(
      `Coordinators: ${up}/${r.coordinators.length} healthy; ` +
        (r.leader ? `leader ${r.leader} (term ${r.term})` : 'NO LEADER') +
        (r.votingMembers.length ? `; voting members ${r.votingMembers.join(', ')}` : ''),
    );
  }
  if (r.coordinators.length > 0) {
    const rows = [
      [
        '  NODE',
        'STATE',
        'ROLE',
        'TERM',
        'FOLLOWS',
        'HEARTBEAT',
        'CLOCK OFFSET',
        'RTT',
        'SYNC',
        'REDIS',
        'PID',
        'ADMIN',
      ],
    ];
    for (const c of r.coordinators) {
      const clock = c.clock;
      rows.push([
        `  ${c.id}`,
        c.health,
        c.role ?? '-',
        c.term === null ? '-' : String(c.term),
        c.role === 'leader' ? '(self)' : (c.leader ?? '-'),
        c.heartbeatAgeMs === null ? '-' : `${fmtMs(c.heartbeatAgeMs)} ago`,
        !clock
          ? '-'
          : c.role === 'leader'
            ? 'reference'
            : clock.offsetMs === null
              ? 'no sample'
              : fmtMs(clock.offsetMs),
        !clock || c.role === 'leader' ? '-' : fmtMs(clock.rttMs),
        !clock ? '-' : clock.inSync ? 'in sync' : clock.samples === 0 ? 'unsynced' : 'OUT OF SYNC',
        c.redisReachable === null ? '-' : c.redisReachable ? 'ok' : 'UNREACHABLE',
        c.pid === null ? '-' : String(c.pid),
        c.adminUrl ?? '-',
      ]);
    }
    out.push(...table(rows));
  }
  if (r.leaderRecord.id !== null) {
    out.push(
      `  leader record in Redis: ${r.leaderRecord.id} (term ${r.leaderRecord.term}), fence ${r.leaderRecord.fence ?? '-'}`,
    );
  }
  out.push('');
  const h = r.redis.health;
  if (!r.redis.reachable) {
    out.push(`Redis Cluster: UNREACHABLE (seeds ${r.redis.seeds})`);
  } else if (h) {
    out.push(
      `Redis Cluster: state ${h.state}, ${h.nodes.filter((n) => n.up).length}/${h.nodes.length} nodes up, ` +
        `${h.masters} masters / ${h.replicas} replicas, ${h.slotsCovered}/16384 slots covered`,
    );
    const rows = [['  NODE', 'UP', 'ROLE', 'CLUSTER STATE', 'REPLICAS ONLINE']];
    for (const n of h.nodes) {
      rows.push([
        `  127.0.0.1:${n.port}`,
        n.up ? 'up' : 'DOWN',
        n.role ?? '-',
        n.state ?? '-',
        n.role === 'master' ? String(n.replicasOnline ?? 0) : '-',
      ]);
    }
    out.push(...table(rows));
  } else {
    out.push(`Redis Cluster: ${r.redis.nodes.length} nodes (remote; only CLUSTER NODES flags checked)`);
    for (const n of r.redis.nodes) out.push(`  ${n.address}  ${n.flags}`);
  }
  out.push('');
  if (r.healthy) {
    out.push(
      `HEALTHY: leader ${r.leader} (term ${r.term}), ${up}/${r.coordinators.length} coordinators healthy and in sync, ` +
        'Redis Cluster ok.',
    );
  } else {
    out.push(`UNHEALTHY: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`);
    for (const p of r.problems) out.push(`  - ${p}`);
  }
  return out.join('\n');
}
