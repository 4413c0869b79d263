import type { RealtimeEvent } from './events';

/**
 * The `broadcast` function's work, behind two narrow ports so it can be tested
 * without AWS: look up the live subscribers of every topic in a batch of events, then
 * post each connection its events in order, many connections at a time. A connection
 * that answers "gone" (HTTP 410) is removed from the registry and skipped from then on.
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
  const byTopic = new Map<string, Uint8Array[]>();
  for (const e of events) {
    const list = byTopic.get(e.topic) ?? [];
    list.push(Buffer.from(JSON.stringify(e), 'utf8'));
    byTopic.set(e.topic, list);
  }
  report.topics = byTopic.size;
  const now = options.now();
  const topics = [...byTopic.keys()];
  const subscriberLists = await Promise.all(topics.map((t) => directory.subscribers(t, now)));
  // Each connection gets its events in the order they came in the batch.
  const perConnection = new Map<string, Uint8Array[]>();
  topics.forEach((t, i) => {
    const payloads = byTopic.get(t)!;
    for (const c of subscriberLists[i]!) {
      const list = perConnection.get(c);
      if (list) list.push(...payloads);
      else perConnection.set(c, [...payloads]);
    }
  });
  report.connections = perConnection.size;
  const queue = [...perConnection];
  const worker = async (): Promise<void> => {
    for (let next = queue.pop(); next; next = queue.pop()) {
      const [connectionId, payloads] = next;
      for (const data of payloads) {
        try {
          const outcome = await poster.post(connectionId, data);
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
