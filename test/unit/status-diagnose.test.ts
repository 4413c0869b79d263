import { diagnose } from '../../local/status/diagnose';
import type { StatusFacts } from '../../local/status/report';
import type { CoordinatorStatus } from '../../shared/membership/coordinator-status';

const NOW = 1_700_000_000_000;
const ids = ['c1', 'c2', 'c3'];

function status(id: string, over: Partial<CoordinatorStatus> = {}): CoordinatorStatus {
  return {
    id,
    version: '0.1.0',
    pid: 100 + ids.indexOf(id),
    role: id === 'c1' ? 'leader' : 'follower',
    term: 4,
    leader: 'c1',
    lastLeaderContactMs: 20,
    electionsStarted: 1,
    redisReachable: true,
    uptimeS: 60,
    votingMembers: ids,
    members: ids.map((m) => ({
      id: m,
      adminUrl: `http://127.0.0.1:900${m[1]}`,
      health: 'healthy',
      heartbeatAgeMs: 100,
      lastHeartbeatAt: new Date(NOW - 100).toISOString(),
      voting: true,
    })),
    clock: {
      inSync: true,
      offsetMs: 0.2,
      rttMs: 0.5,
      correctionMs: 0,
      samples: 8,
      lastAction: 'ignored',
      artificialSkewMs: 0,
      artificialDriftPpm: 0,
      now: new Date(NOW).toISOString(),
    },
    ...over,
  };
}

/** A healthy three-node cluster on a remote (flags-only) Redis; `edit` breaks it. */
function facts(edit: (f: StatusFacts) => void = () => {}): StatusFacts {
  const f: StatusFacts = {
    now: NOW,
    seeds: '10.0.0.1:7000',
    redisNodes: [
      { host: '10.0.0.1', port: 7000, flags: 'myself,master' },
      { host: '10.0.0.2', port: 7001, flags: 'slave' },
    ],
    redisHealth: null,
    records: ids.map((id) => ({
      id,
      adminUrl: `http://127.0.0.1:900${id[1]}`,
      startedAt: NOW - 60_000,
      version: '0.1.0',
      pid: 100 + ids.indexOf(id),
      heartbeatAt: NOW - 100,
    })),
    invalidRecords: 0,
    recordsError: null,
    leaderRecord: { id: 'c1', term: 4, fence: 4 },
    leaderLease: { id: 'c1', term: 4 },
    statuses: new Map(ids.map((id) => [id, status(id)])),
  };
  edit(f);
  return f;
}

describe('npm run status: the diagnosis of what was read', () => {
  it('a leader holding the lease, every member healthy and in sync: healthy, no problem', () => {
    const r = diagnose(facts());
    expect(r).toMatchObject({ healthy: true, problems: [], leader: 'c1', term: 4, votingMembers: ids });
    expect(r.coordinators.map((c) => c.health)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(r.at).toBe(new Date(NOW).toISOString());
  });

  it('a registered member that does not answer is down', () => {
    const r = diagnose(facts((f) => f.statuses.set('c3', null)));
    expect(r.healthy).toBe(false);
    expect(r.coordinators.find((c) => c.id === 'c3')?.health).toBe('down');
    expect(r.problems).toEqual([
      'c3: registered (last heartbeat 100 ms ago) but http://127.0.0.1:9003/status does not answer: the process is down or paused',
    ]);
  });

  it('a heartbeat older than the shared threshold (1,500 ms) is unhealthy; at it, still healthy', () => {
    const at = (ageMs: number) =>
      diagnose(
        facts((f) => {
          const leader = f.statuses.get('c1')!;
          leader.members = leader.members.map((m) => (m.id === 'c2' ? { ...m, heartbeatAgeMs: ageMs } : m));
        }),
      );
    expect(at(1500).coordinators.find((c) => c.id === 'c2')?.health).toBe('healthy');
    const late = at(1501);
    expect(late.coordinators.find((c) => c.id === 'c2')?.health).toBe('unhealthy');
    expect(late.problems).toEqual(['c2: last heartbeat 1.5 s ago (unhealthy after 1500 ms)']);
  });

  it('a node claiming leadership without the lease is not the leader', () => {
    const r = diagnose(facts((f) => (f.leaderLease = null)));
    expect(r.leader).toBeNull();
    expect(r.problems).toContain(
      'c1 reports role=leader (term 4) but holds no valid leader lease in Redis: it does not act as leader',
    );
  });

  it('two leaders are named, newest term first, and the stale one is not followed', () => {
    const r = diagnose(
      facts((f) => f.statuses.set('c2', status('c2', { role: 'leader', term: 5, leader: 'c2' }))),
    );
    expect(r.problems).toContain(
      '2 leaders: c2 (term 5), c1 (term 4); the one with the older term will be fenced',
    );
    expect(r.problems).toContain(
      'c2 does not follow the leader c1 (term 4): it is leader in term 5, leader c2',
    );
  });

  it('fewer healthy voting members than a majority: no majority', () => {
    const r = diagnose(
      facts((f) => {
        f.statuses.set('c2', null);
        f.statuses.set('c3', null);
      }),
    );
    expect(r.problems).toContain(
      'only 1 of 3 voting coordinators are healthy; a leader needs 2: no majority',
    );
  });

  it('an out-of-sync clock and an unreachable Redis are reported per node', () => {
    const r = diagnose(
      facts((f) => {
        const c2 = status('c2');
        f.statuses.set('c2', {
          ...c2,
          redisReachable: false,
          clock: { ...c2.clock, inSync: false, offsetMs: 750 },
        });
      }),
    );
    expect(r.problems).toEqual([
      'c2: cannot reach Redis',
      'c2: clock OUT OF SYNC (offset 750 ms): it abstains from validating votes',
    ]);
  });

  it('no seed answering, a failing remote node, unreadable records', () => {
    expect(
      diagnose(
        facts((f) => {
          f.redisNodes = null;
          f.records = [];
          f.statuses.clear();
        }),
      ).problems,
    ).toEqual(['Redis: no seed answers (10.0.0.1:7000); is the Redis Cluster running?']);
    const flagged = diagnose(facts((f) => (f.redisNodes![1]!.flags = 'slave,fail')));
    expect(flagged.problems).toEqual(['Redis: node 10.0.0.2:7001 is flagged slave,fail']);
    const bad = diagnose(facts((f) => (f.invalidRecords = 1)));
    expect(bad.problems).toEqual(['Redis: a {qv}:members record is not valid']);
  });

  it('a voting member that never registered, and no coordinator registered at all', () => {
    const missing = diagnose(
      facts((f) => {
        f.records = f.records.filter((r) => r.id !== 'c3');
        f.statuses.delete('c3');
      }),
    );
    expect(missing.coordinators.find((c) => c.id === 'c3')?.health).toBe('unregistered');
    expect(missing.problems).toContain(
      'c3: voting member but not registered: it is not running (or cannot reach Redis)',
    );
    const none = diagnose(
      facts((f) => {
        f.records = [];
        f.statuses.clear();
        f.leaderLease = null;
      }),
    );
    expect(none.problems).toEqual([
      'no coordinator is registered in {qv}:members: none is running (or they use another Redis)',
    ]);
  });
});
