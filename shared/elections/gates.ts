import type { Cluster } from 'ioredis';
import { electionKeys, partitionKeys } from '../redis/keys';
import { ReplicaWaits } from '../redis/replica-waits';
import { defineScript, reply, runScript } from '../redis/scripts';
import { compareStreamIds } from '../votes/stream-ids';

/**
 * Per-partition intake gates and their closing points. A gate only moves forward
 * (absent -> `open` -> `closed|<streamId>`), each step one Lua script in the partition's
 * slot, so an opener that lost a race with a close can never reopen intake. The closing
 * point is the last vote id in the partition's log when its gate closed: the submit
 * script checks the gate atomically with its XADD, so every vote in the log is either
 * at or before the point (taken while open) or does not exist. Validators and the
 * finalizer judge "in the window" as `streamId <= point`, the same rule as intake.
 */
export type GateState = { state: 'draft' } | { state: 'open' } | { state: 'closed'; point: string };

const gateOpenScript = defineScript('gateOpen', {
  keys: 1,
  parse: (r) => {
    const a = reply.array('gateOpen', r, 2);
    return { opened: reply.integer('gateOpen', a[0]) === 1, value: reply.string('gateOpen', a[1]) };
  },
});

const gateCloseScript = defineScript('gateClose', {
  keys: 2,
  parse: (r) => {
    const a = reply.array('gateClose', r, 2);
    return { closedNow: reply.integer('gateClose', a[0]) === 1, point: reply.string('gateClose', a[1]) };
  },
});

/** Reads a gate's stored value. */
export function parseGate(value: string | null | undefined): GateState {
  if (value === 'open') return { state: 'open' };
  if (value?.startsWith('closed|')) return { state: 'closed', point: value.slice(7) };
  return { state: 'draft' };
}

/** True when a vote with this stream id was taken before its partition closed at `point`. */
export function beforeClosingPoint(streamId: string, point: string): boolean {
  return compareStreamIds(streamId, point) <= 0;
}

/**
 * The closing point that holds for a partition: the earlier of what its gate says and
 * what the election record says (null while neither is closed). The two agree unless a
 * master failover lost a gate write; then the recorded one, the earlier, wins.
 */
export function closingPoint(gate: GateState, recorded: string | null | undefined): string | null {
  const fromGate = gate.state === 'closed' ? gate.point : null;
  if (fromGate && recorded) return compareStreamIds(fromGate, recorded) <= 0 ? fromGate : recorded;
  return fromGate ?? recorded ?? null;
}

/**
 * The closing points the election's metadata records (null while it is not closed):
 * from the caller's record when that already has them (they never change), else read
 * afresh, so a validator or finalizer whose cached record is a moment old still applies
 * the recorded points (they matter when a failover lost a gate's closed state).
 */
export async function recordedPoints(
  redis: Cluster,
  e: { id: string; closePoints: string[] | null },
): Promise<string[] | null> {
  if (e.closePoints) return e.closePoints;
  const text = await redis.hget(electionKeys(e.id).meta, 'closePoints');
  return text ? (JSON.parse(text) as string[]) : null;
}

/** Opens a partition's gate unless it was ever closed; true when it is open now. */
export async function openGate(redis: Cluster, tag: string): Promise<boolean> {
  return (await runScript(redis, gateOpenScript, [partitionKeys(tag).gate], [])).opened;
}

/**
 * Closes a partition's gate for good; returns its closing point (the one recorded when
 * it first closed, if it already was). `recorded` re-closes a lost gate at that point.
 */
export async function closeGate(redis: Cluster, tag: string, recorded = ''): Promise<string> {
  const k = partitionKeys(tag);
  return (await runScript(redis, gateCloseScript, [k.gate, k.votes], [recorded])).point;
}

const waits = new WeakMap<Cluster, ReplicaWaits>();

/**
 * Best effort: waits (bounded) until a replica has this client's writes to `key`'s
 * master, so a lifecycle step survives a master failover that follows at once. When it
 * cannot be had the step still stands: the leader re-asserts gates of closed elections
 * from the recorded closing points until their results are final.
 */
export async function replicate(redis: Cluster, key: string, timeoutMs = 500): Promise<number> {
  let w = waits.get(redis);
  if (!w) {
    w = new ReplicaWaits(redis);
    waits.set(redis, w);
  }
  const target = w.target(key);
  if (!target) return 0;
  return w.after(target, 1, timeoutMs).then(
    (o) => o.replicas,
    () => 0,
  );
}
