import type { CoordinatorStatus } from '../../shared/membership/coordinator-status';
import { membershipTiming } from '../../shared/membership/member';
import { majorityOf } from '../../shared/consensus/quorum';
import { type CoordinatorReport, type StatusFacts, type StatusReport, fmtMs } from './report';

/**
 * The judgement of `npm run status`, pure: from the facts read to a report that names,
 * in plain words, what is wrong — no leader, two leaders, disagreement about the leader,
 * no majority, a member down / unhealthy / cut off from Redis / out of sync, Redis
 * problems. Healthy means no problem at all.
 */
export function diagnose(f: StatusFacts): StatusReport {
  const problems: string[] = [];
  const { redisNodes, records, leaderLease, leaderRecord } = f;

  // ---- Redis Cluster ----
  if (!redisNodes) {
    problems.push(`Redis: no seed answers (${f.seeds}); is the Redis Cluster running?`);
  } else if (f.redisHealth) {
    for (const p of f.redisHealth.problems) problems.push(`Redis: ${p}`);
  } else {
    for (const n of redisNodes) {
      if (/fail/.test(n.flags)) problems.push(`Redis: node ${n.host}:${n.port} is flagged ${n.flags}`);
    }
  }
  for (let i = 0; i < f.invalidRecords; i++) problems.push('Redis: a {qv}:members record is not valid');
  if (f.recordsError !== null) {
    problems.push(`Redis: cannot read the coordinator records (${f.recordsError})`);
  }

  // ---- coordinators ----
  const answering = [...f.statuses.values()].filter((s): s is CoordinatorStatus => s !== null);
  // The voting membership as the coordinators are configured (they must all agree).
  const votingSets = new Set(answering.map((s) => [...s.votingMembers].sort().join(',')));
  if (votingSets.size > 1) {
    problems.push(`coordinators disagree on the voting membership: ${[...votingSets].join(' vs ')}`);
  }
  const voting = [...new Set(answering.flatMap((s) => s.votingMembers))].sort();

  const leaders = answering.filter((s) => s.role === 'leader').sort((a, b) => b.term - a.term);
  // A node's own word is not enough (it may not have noticed that it was deposed): the
  // leader is the one whose claim the live lease confirms.
  const leader =
    leaders.find((s) => leaderLease !== null && s.id === leaderLease.id && s.term === leaderLease.term) ??
    null;
  const leaderView = new Map((leader?.members ?? []).map((m) => [m.id, m]));

  const coordinators: CoordinatorReport[] = [];
  for (const id of [...new Set([...records.map((r) => r.id), ...voting])].sort()) {
    const rec = records.find((r) => r.id === id);
    const st = f.statuses.get(id) ?? null;
    const age = leaderView.get(id)?.heartbeatAgeMs ?? (rec ? Math.max(0, f.now - rec.heartbeatAt) : null);
    let health: CoordinatorReport['health'];
    if (!rec) health = 'unregistered';
    else if (!st) health = 'down';
    else health = age !== null && age > membershipTiming.unhealthyAfterMs ? 'unhealthy' : 'healthy';
    coordinators.push({
      id,
      adminUrl: rec?.adminUrl ?? null,
      registered: rec !== undefined,
      voting: voting.includes(id),
      heartbeatAgeMs: age,
      health,
      answers: st !== null,
      pid: st?.pid ?? rec?.pid ?? null,
      role: st?.role ?? null,
      term: st?.term ?? null,
      leader: st?.leader ?? null,
      redisReachable: st?.redisReachable ?? null,
      clock: st?.clock ?? null,
    });
  }

  if (redisNodes && records.length === 0 && f.recordsError === null) {
    problems.push(
      'no coordinator is registered in {qv}:members: none is running (or they use another Redis)',
    );
  }
  for (const c of coordinators) {
    if (c.health === 'unregistered') {
      problems.push(`${c.id}: voting member but not registered: it is not running (or cannot reach Redis)`);
    } else if (c.health === 'down') {
      problems.push(
        `${c.id}: registered (last heartbeat ${fmtMs(c.heartbeatAgeMs)} ago) but ${c.adminUrl}/status does not answer: ` +
          'the process is down or paused',
      );
    } else if (c.health === 'unhealthy') {
      problems.push(
        `${c.id}: last heartbeat ${fmtMs(c.heartbeatAgeMs)} ago (unhealthy after ${membershipTiming.unhealthyAfterMs} ms)`,
      );
    }
    if (c.answers && c.redisReachable === false) problems.push(`${c.id}: cannot reach Redis`);
    if (c.answers && c.clock && !c.clock.inSync) {
      problems.push(
        c.clock.samples === 0
          ? `${c.id}: clock not synchronized yet (no sample from the leader)`
          : `${c.id}: clock OUT OF SYNC (offset ${fmtMs(c.clock.offsetMs)}): it abstains from validating votes`,
      );
    }
    if (c.registered && !c.voting && voting.length > 0) {
      problems.push(`${c.id}: registered but not in the voting membership (${voting.join(',')})`);
    }
  }
  if (answering.length > 0) {
    if (leaders.length === 0) {
      problems.push('no leader: no coordinator reports role=leader (an election is running or failing)');
    } else if (leaders.length > 1) {
      problems.push(
        `${leaders.length} leaders: ${leaders.map((l) => `${l.id} (term ${l.term})`).join(', ')}; ` +
          'the one with the older term will be fenced',
      );
    }
    for (const l of leaders) {
      if (l !== leader) {
        problems.push(
          `${l.id} reports role=leader (term ${l.term}) but holds no valid leader lease in Redis: it does not act as leader`,
        );
      }
    }
    if (leaderLease !== null && !leader) {
      problems.push(
        `the leader lease names ${leaderLease.id} (term ${leaderLease.term}), but it does not answer as leader of that term`,
      );
    }
    if (leader) {
      const astray = answering.filter(
        (s) => s.id !== leader.id && (s.leader !== leader.id || s.term !== leader.term),
      );
      for (const s of astray) {
        problems.push(
          `${s.id} does not follow the leader ${leader.id} (term ${leader.term}): ` +
            `it is ${s.role} in term ${s.term}, leader ${s.leader ?? 'unknown'}`,
        );
      }
      if (leaderRecord.id !== null && (leaderRecord.id !== leader.id || leaderRecord.term !== leader.term)) {
        problems.push(
          `the leader record in Redis names ${leaderRecord.id} (term ${leaderRecord.term}), not ${leader.id} (term ${leader.term})`,
        );
      }
    }
    if (voting.length > 0) {
      const up = coordinators.filter((c) => c.voting && c.health === 'healthy').length;
      const majority = majorityOf(voting.length);
      if (up < majority) {
        problems.push(
          `only ${up} of ${voting.length} voting coordinators are healthy; a leader needs ${majority}: no majority`,
        );
      }
    }
  }

  return {
    at: new Date(f.now).toISOString(),
    healthy: problems.length === 0,
    problems,
    leader: leader?.id ?? null,
    term: leader?.term ?? null,
    leaderLease,
    leaderRecord,
    votingMembers: voting,
    coordinators,
    redis: {
      seeds: f.seeds,
      reachable: redisNodes !== null,
      nodes: (redisNodes ?? []).map((n) => ({ address: `${n.host}:${n.port}`, flags: n.flags })),
      health: f.redisHealth,
    },
  };
}
