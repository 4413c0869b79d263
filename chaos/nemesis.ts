import { join } from 'node:path';
import type { ManagedProcess } from '../local/processes';
import { repoRoot } from '../local/stack';
import type { HostSpec } from './hosts';
import {
  ADMIN_PORT,
  type HostStack,
  REDIS_PORT,
  adminUrl,
  agreedLeader,
  coordinatorStatus,
  redisHealth,
  redisRoles,
  waitFor,
} from './host-stack';
import {
  cutFrom,
  divertInbound,
  healPartitions,
  limitRate,
  undivertInbound,
  unlimitRate,
} from './net-faults';
import { FAULT_KINDS, type FaultClass, type FaultKind, type ScheduledFault } from './schedule';

/**
 * Carries out a schedule of faults against a {@link HostStack}: each fault is started,
 * held, healed, and the cluster is given time to recover before the next one. Every
 * start and stop is recorded in the history as a nemesis op, and each fault's window
 * is returned for the checker's per-fault availability figures.
 */

/** Where nemesis ops go: the history recorder (chaos/history.ts) satisfies it. */
export interface NemesisLog {
  nemesis(f: string, value: unknown): { index: number };
}

/** One injected fault, as the report and the checker see it. */
export interface FaultWindow {
  id: number;
  kind: FaultKind;
  cls: FaultClass;
  /** Hosts hit (names), and for partitions the hosts they were cut from. */
  targets: string[];
  detail: Record<string, unknown>;
  /** Index of the history op that started it. */
  startOp: number;
  /** Wall-clock ms (Date.now()) of the start, the heal, and the cluster's recovery. */
  start: number;
  end: number;
  recovered: number | null;
}

export interface NemesisOptions {
  stack: HostStack;
  history: NemesisLog;
  /** Elections the close faults may close (each at most once). */
  closable: string[];
  /** Closes an election (the caller records it in the history as the admin's `close`). */
  closeElection(id: string): Promise<void>;
  log(m: string): void;
  signal?: AbortSignal;
  /** How long to wait for the cluster to be whole again after a heal. */
  recoveryTimeoutMs?: number;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((r) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      r();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** The undo step of a running fault plus what it hit. */
interface Active {
  startOp: number;
  targets: string[];
  detail: Record<string, unknown>;
  stopF: string;
  heal(): Promise<void>;
}

export class Nemesis {
  readonly windows: FaultWindow[] = [];
  private active: Active | undefined;
  private nextId = 1;
  private proxies: ManagedProcess[] = [];

  constructor(private readonly o: NemesisOptions) {}

  private get t() {
    return this.o.stack.topology;
  }

  /** Runs the schedule until it ends or `deadline` (wall ms) would be passed. */
  async run(schedule: readonly ScheduledFault[], deadline: number): Promise<void> {
    for (const f of schedule) {
      if (this.o.signal?.aborted) return;
      if (Date.now() + f.durationMs + 5000 > deadline) return;
      await this.inject(f);
      await sleep(f.gapMs, this.o.signal);
    }
  }

  /** One fault: start, hold for its duration, heal, wait for recovery. */
  async inject(f: ScheduledFault): Promise<FaultWindow> {
    const id = this.nextId++;
    const cls = FAULT_KINDS[f.kind].cls;
    const a = await this.start(f, id);
    // From when the fault is in place (a latency proxy takes a moment to start).
    const start = Date.now();
    this.active = a;
    const w: FaultWindow = {
      id,
      kind: f.kind,
      cls,
      targets: a.targets,
      detail: a.detail,
      startOp: a.startOp,
      start,
      end: 0,
      recovered: null,
    };
    this.windows.push(w);
    this.o.log(`fault ${id} ${f.kind} on ${a.targets.join(', ')} for ${f.durationMs} ms`);
    await sleep(f.durationMs, this.o.signal);
    await this.healActive(id, f.kind);
    w.end = Date.now();
    w.recovered = await this.recovered();
    this.o.log(
      `fault ${id} healed; ${w.recovered ? `recovered after ${w.recovered - w.end} ms` : 'NOT recovered in time'}`,
    );
    return w;
  }

  /** Heals whatever fault is active (also on abort / Ctrl-C, before the stack stops). */
  async healAll(): Promise<void> {
    if (this.active) await this.healActive(0, 'abort');
    for (const p of this.proxies) await p.stop(1000);
  }

  private async healActive(id: number, kind: string): Promise<void> {
    const a = this.active;
    if (!a) return;
    this.active = undefined;
    await a.heal();
    this.o.history.nemesis(a.stopF, { id, fault: kind, phase: 'stop', targets: a.targets, ...a.detail });
  }

  /** Leader agreed by all answering coordinators and a healthy Redis Cluster. */
  private async recovered(): Promise<number | null> {
    try {
      await waitFor(
        async () => Boolean((await agreedLeader(this.t)) && (await redisHealth(this.t.redis)).ok),
        this.o.recoveryTimeoutMs ?? 45000,
        'recovery',
      );
      return Date.now();
    } catch {
      return null;
    }
  }

  private record(
    f: string,
    id: number,
    kind: FaultKind,
    targets: string[],
    detail: Record<string, unknown>,
  ): number {
    return this.o.history.nemesis(f, { id, fault: kind, phase: 'start', targets, ...detail }).index;
  }

  private async leader(choice: number): Promise<HostSpec> {
    const l = await agreedLeader(this.t).catch(() => undefined);
    if (l) return l.leader;
    // No agreed leader right now: whoever any node names, else a seeded pick.
    for (const h of this.t.coordinators) {
      const s = await coordinatorStatus(h, 500);
      const named = this.t.coordinators.find((c) => c.name === s?.leader);
      if (named) return named;
    }
    return pickHost(this.t.coordinators, choice);
  }

  /** A coordinator that owns vote partitions, preferring one that is not the leader. */
  private async owner(choice: number): Promise<HostSpec> {
    const leader = await this.leader(choice);
    const owners: HostSpec[] = [];
    for (const h of this.t.coordinators) {
      const s = await coordinatorStatus(h, 500);
      if ((s?.pipeline?.partitionsOwned.length ?? 0) > 0) owners.push(h);
    }
    const others = owners.filter((h) => h.name !== leader.name);
    return pickHost(others.length ? others : owners.length ? owners : this.t.coordinators, choice);
  }

  /** A Redis master that serves slots and has a replica, with that replica. */
  private async masterWithReplica(choice: number): Promise<{ master: HostSpec; replica: HostSpec }> {
    const roles = (await redisRoles(this.t.redis)) ?? [];
    const pairs = roles
      .filter((r) => r.role === 'replica' && r.master)
      .map((r) => ({ master: r.master!, replica: r.host }))
      .filter((p) => roles.some((m) => m.host.name === p.master.name && m.role === 'master' && m.slots));
    if (pairs.length === 0) throw new Error('no Redis master with a replica to fault');
    return pairs[Math.floor(choice * pairs.length)]!;
  }

  private async start(f: ScheduledFault, id: number): Promise<Active> {
    const t = this.t;
    const c = f.choice;
    const others = (h: HostSpec, pool: HostSpec[]) => pool.filter((x) => x.name !== h.name);
    const partition = (cuts: [HostSpec, HostSpec[]][], detail: Record<string, unknown>): Active => {
      for (const [h, from] of cuts) cutFrom(h, from);
      const targets = cuts.map(([h]) => h.name);
      const startOp = this.record('start-partition', id, f.kind, targets, detail);
      return {
        startOp,
        targets,
        detail,
        stopF: 'stop-partition',
        heal: async () => {
          for (const [h] of cuts) healPartitions(h);
        },
      };
    };
    switch (f.kind) {
      case 'partition-isolate': {
        const h = pickHost(t.coordinators, c);
        const rest = [...others(h, t.coordinators), ...t.redis];
        return partition([[h, rest]], { cutFrom: rest.map((x) => x.name) });
      }
      case 'partition-leader-redis': {
        const h = await this.leader(c);
        return partition([[h, t.redis]], { cutFrom: t.redis.map((x) => x.name), leader: h.name });
      }
      case 'partition-split': {
        // The minority is the leader half the time (it must step down), else a follower.
        const h = c < 0.5 ? await this.leader(c * 2) : pickHost(t.coordinators, (c - 0.5) * 2);
        const majority = others(h, t.coordinators);
        return partition([[h, majority]], { minority: [h.name], majority: majority.map((x) => x.name) });
      }
      case 'partition-redis-replica': {
        const { master, replica } = await this.masterWithReplica(c);
        return partition(
          [
            [master, [replica]],
            [replica, [master]],
          ],
          { master: master.name, replica: replica.name },
        );
      }
      case 'partition-bridge': {
        const a = pickHost(t.coordinators, c);
        const [b, d] = others(a, t.coordinators);
        if (!b || !d) throw new Error('a bridge partition needs three coordinators');
        return partition(
          [
            [b, [d]],
            [d, [b]],
          ],
          { bridge: a.name, split: [b.name, d.name] },
        );
      }
      case 'kill-coordinator':
      case 'kill-leader':
      case 'kill-owner': {
        const leader = await this.leader(c);
        const h =
          f.kind === 'kill-leader'
            ? leader
            : f.kind === 'kill-owner'
              ? await this.ownerMidFinalize(c)
              : pickHost(others(leader, t.coordinators), c);
        return this.killCoordinator(id, f.kind, h, { wasLeader: h.name === leader.name });
      }
      case 'kill-redis-master':
        return this.killRedisMaster(id, f.kind, c);
      case 'pause-leader':
      case 'pause-owner': {
        const h = f.kind === 'pause-leader' ? await this.leader(c) : await this.owner(c);
        const proc = this.o.stack.coordinatorProcs.get(h.name);
        proc?.signal('SIGSTOP');
        const startOp = this.record('pause', id, f.kind, [h.name], { pid: proc?.pid });
        return {
          startOp,
          targets: [h.name],
          detail: {},
          stopF: 'resume',
          heal: async () => proc?.signal('SIGCONT'),
        };
      }
      case 'clock-skew':
      case 'clock-skew-leader': {
        const h = f.kind === 'clock-skew-leader' ? await this.leader(c) : pickHost(t.coordinators, c);
        // ±5 s and a drift of ±500..2500 ppm, sign and size from the choice number.
        const sign = Math.floor(c * 1000) % 2 === 0 ? 1 : -1;
        const skewMs = sign * 5000;
        const driftPpm = -sign * (500 + Math.floor(c * 2000));
        await setClock(h, skewMs, driftPpm);
        const startOp = this.record('start-clock', id, f.kind, [h.name], { skewMs, driftPpm });
        return {
          startOp,
          targets: [h.name],
          detail: { skewMs, driftPpm },
          stopF: 'stop-clock',
          heal: async () => {
            await setClock(h, 0, 0).catch((err) => this.o.log(`clock reset on ${h.name} failed: ${err}`));
          },
        };
      }
      case 'latency-redis-master': {
        const { master } = await this.masterWithReplica(c);
        return this.latency(id, f, master, REDIS_PORT);
      }
      case 'latency-coordinator':
        return this.latency(id, f, pickHost(t.coordinators, c), ADMIN_PORT);
      case 'close-during-partition':
      case 'close-during-failover':
        return this.closeUnderFault(id, f);
    }
  }

  /** A partition owner, killed right after it was seen finalizing (its counter moved). */
  private async ownerMidFinalize(choice: number): Promise<HostSpec> {
    const h = await this.owner(choice);
    const count = async () => (await coordinatorStatus(h, 500))?.pipeline?.finalized ?? -1;
    const before = await count();
    const until = Date.now() + 3000;
    while (Date.now() < until && (await count()) === before) await sleep(20);
    return h;
  }

  private killCoordinator(id: number, kind: FaultKind, h: HostSpec, detail: Record<string, unknown>): Active {
    const proc = this.o.stack.coordinatorProcs.get(h.name);
    if (proc) this.o.stack.expectExit(proc);
    proc?.signal('SIGKILL');
    const startOp = this.record('kill', id, kind, [h.name], { pid: proc?.pid, ...detail });
    return {
      startOp,
      targets: [h.name],
      detail,
      stopF: 'restart',
      heal: async () => {
        await proc?.exited;
        try {
          await this.o.stack.startCoordinator(h);
        } catch (err) {
          this.o.log(`restart of coordinator ${h.name} failed: ${(err as Error).message}`);
        }
      },
    };
  }

  private async killRedisMaster(id: number, kind: FaultKind, choice: number): Promise<Active> {
    const { master, replica } = await this.masterWithReplica(choice);
    const proc = this.o.stack.redisProcs.get(master.name);
    if (proc) this.o.stack.expectExit(proc);
    proc?.signal('SIGKILL');
    const startOp = this.record('kill', id, kind, [master.name], { replica: replica.name, redis: true });
    return {
      startOp,
      targets: [master.name],
      detail: { replica: replica.name },
      stopF: 'restart',
      heal: async () => {
        await proc?.exited;
        // Back only once its replica took over, so it rejoins as a replica (as in production).
        const promoted = await waitFor(
          async () =>
            (await redisRoles([replica]))?.find((r) => r.host.name === replica.name)?.role === 'master',
          15000,
          `replica ${replica.name} promoted`,
        ).then(
          () => true,
          () => false,
        );
        if (!promoted)
          this.o.log(`replica ${replica.name} was not promoted in time; restarting ${master.name} anyway`);
        this.o.stack.startRedisNode(master);
      },
    };
  }

  private async latency(id: number, f: ScheduledFault, h: HostSpec, port: number): Promise<Active> {
    const delayMs = 20 + Math.floor(f.choice * 100);
    const jitterMs = 50;
    const resetShare = 0.05;
    const rate = '2mbit';
    const proxyPort = port + 1;
    const proxy = this.o.stack.spawnIn(h, `proxy-${h.name}`, process.execPath, [
      '--import',
      'tsx',
      join(repoRoot, 'chaos/delay-proxy.ts'),
      String(proxyPort),
      h.ip,
      String(port),
      String(delayMs),
      String(jitterMs),
      String(resetShare),
      String(Math.floor(f.choice * 2 ** 31)),
    ]);
    this.proxies.push(proxy);
    // Rules only once the proxy listens: until then a diverted connection would be refused.
    const listening = new Promise<void>((resolve, reject) => {
      proxy.child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) resolve();
      });
      void proxy.exited.then((code) => reject(new Error(`delay proxy exited (${code})`)));
      setTimeout(() => reject(new Error('delay proxy did not start')), 15000);
    });
    await listening;
    divertInbound(h, port, proxyPort);
    limitRate(h, rate);
    const detail = { port, delayMs, jitterMs, resetShare, rate };
    const startOp = this.record('start-latency', id, f.kind, [h.name], detail);
    return {
      startOp,
      targets: [h.name],
      detail,
      stopF: 'stop-latency',
      heal: async () => {
        undivertInbound(h);
        unlimitRate(h);
        await proxy.stop(1000);
        this.proxies = this.proxies.filter((p) => p !== proxy);
      },
    };
  }

  /** A partition or a leader kill, and an election closed while it lasts. */
  private async closeUnderFault(id: number, f: ScheduledFault): Promise<Active> {
    const inner: FaultKind = f.kind === 'close-during-partition' ? 'partition-leader-redis' : 'kill-leader';
    const under = await this.start({ ...f, kind: inner }, id);
    const election = this.o.closable.shift();
    if (election) {
      await sleep(Math.floor(f.durationMs / 3), this.o.signal);
      try {
        await this.o.closeElection(election);
      } catch (err) {
        this.o.log(`closing ${election} failed: ${(err as Error).message}`);
      }
    }
    return { ...under, detail: { ...under.detail, election, under: inner } };
  }
}

function pickHost(hosts: readonly HostSpec[], choice: number): HostSpec {
  return hosts[Math.min(hosts.length - 1, Math.floor(choice * hosts.length))]!;
}

async function setClock(h: HostSpec, skewMs: number, driftPpm: number): Promise<void> {
  const res = await fetch(`${adminUrl(h)}/admin/clock`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ skewMs, driftPpm }),
    signal: AbortSignal.timeout(3000),
  });
  if (res.status !== 200) throw new Error(`POST /admin/clock on ${h.name}: ${res.status}`);
}
