import type { BroadcastShard, RealtimeEvent } from './events';
import { latestWins, shardOf } from './latest-wins';

/**
 * The `broadcast` function's work, behind two narrow ports so it can be tested
 * without AWS: look up the live subscribers of every topic in a batch of events, then
 * post each connection its events in order, many connections at a time. A connection
 * that answers "gone" (HTTP 410) is removed from the registry and skipped from then on.
 *
 * Latest wins for tallies (latest-wins.ts): of several `tally.updated` of one topic in
 * a request only the newest goes out, and with `latest` a delivery that takes a while
 * posts each connection the newest tally there is when its turn comes, not the one it
 * started with. Vote, lifecycle and cluster events are never dropped or replaced.
 */
export type PostOutcome = 'ok' | 'gone';

/** Sends one message to one connection; throws on anything but success or "gone". */
export interface ConnectionPoster {
  post(connectionId: string, data: Uint8Array): Promise<PostOutcome>;
  /** Closes a connection (its token was revoked); 'gone' when it was closed already. */
  close?(connectionId: string): Promise<PostOutcome>;
}

/** The part of the registry delivery needs. */
export interface SubscriberDirectory {
  subscribers(topic: string, nowMs: number): Promise<string[]>;
  remove(connectionId: string, nowMs: number): Promise<number>;
}

export interface DeliveryReport {
  events: number;
  topics: number;
  connections: number;
  delivered: number;
  gone: number;
  failed: number;
}

export interface DeliveryOptions {
  /** Connections posted to at the same time (keep ≤ the HTTP agent's sockets). */
  concurrency: number;
  now: () => number;
  onError?: (connectionId: string, err: unknown) => void;
  /** Deliver only to this shard of each topic's subscribers (a split fan-out). */
  shard?: BroadcastShard;
  /** The newest tally of a topic (serialized event), or null when there is none. */
  latest?: (topic: string) => Promise<Uint8Array | null>;
  /** How often, at most, `latest` is asked per topic during a delivery (default 100 ms). */
  latestEveryMs?: number;
}

/** A tally topic's payload during a delivery: refreshed from `latest` in the background. */
interface TallyPayload {
  data: Uint8Array;
  checkedAt: number;
  checking: boolean;
}

export async function deliver(
  events: RealtimeEvent[],
  directory: SubscriberDirectory,
  poster: ConnectionPoster,
  options: DeliveryOptions,
): Promise<DeliveryReport> {
  const report: DeliveryReport = {
    events: events.length,
    topics: 0,
    connections: 0,
    delivered: 0,
    gone: 0,
    failed: 0,
  };
  if (events.length === 0) return report;
  // Per topic, in order: fixed payloads, or (a tally) the topic's refreshable one.
  const byTopic = new Map<string, (Uint8Array | TallyPayload)[]>();
  for (const e of latestWins(events)) {
    const list = byTopic.get(e.topic) ?? [];
    const data = Buffer.from(JSON.stringify(e), 'utf8');
    list.push(e.type === 'tally.updated' ? { data, checkedAt: options.now(), checking: false } : data);
    byTopic.set(e.topic, list);
  }
  report.topics = byTopic.size;
  const now = options.now();
  const topics = [...byTopic.keys()];
  const subscriberLists = await Promise.all(topics.map((t) => directory.subscribers(t, now)));
  const shard = options.shard;
  // Each connection gets its events in the order they came in the batch.
  const perConnection = new Map<string, { topic: string; item: Uint8Array | TallyPayload }[]>();
  topics.forEach((topic, i) => {
    const items = byTopic.get(topic)!.map((item) => ({ topic, item }));
    for (const c of subscriberLists[i]!) {
      if (shard && shardOf(c, shard.count) !== shard.index) continue;
      const list = perConnection.get(c);
      if (list) list.push(...items);
      else perConnection.set(c, [...items]);
    }
  });
  report.connections = perConnection.size;
  const every = options.latestEveryMs ?? 100;
  const payload = (topic: string, item: Uint8Array | TallyPayload): Uint8Array => {
    if (item instanceof Uint8Array) return item;
    const t = options.now();
    if (options.latest && !item.checking && t - item.checkedAt >= every) {
      // Never waited for: the post goes with what is known now, the next one with what came.
      item.checking = true;
      options.latest(topic).then(
        (fresh) => {
          if (fresh) item.data = fresh;
          item.checkedAt = options.now();
          item.checking = false;
        },
        () => {
          item.checkedAt = options.now();
          item.checking = false;
        },
      );
    }
    return item.data;
  };
  const queue = [...perConnection];
  const worker = async (): Promise<void> => {
    for (let next = queue.pop(); next; next = queue.pop()) {
      const [connectionId, items] = next;
      for (const { topic, item } of items) {
        try {
          const outcome = await poster.post(connectionId, payload(topic, item));
          if (outcome === 'gone') {
            report.gone++;
            await directory.remove(connectionId, options.now()).catch((err: unknown) => {
              options.onError?.(connectionId, err);
            });
            break;
          }
          report.delivered++;
        } catch (err) {
          report.failed++;
          options.onError?.(connectionId, err);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));
  return report;
}
