import { isWarmUp } from '../shared/warm-up';
import { createLogger, errorFields } from '../shared/logger';
import { apiGatewayPoster } from '../shared/realtime/api-gateway-poster';
import { loadRealtimeConfig } from '../shared/realtime/config';
import { type DeliveryReport, deliver } from '../shared/realtime/delivery';
import { type BroadcastRequest, isRealtimeEvent, parseBroadcastRequest } from '../shared/realtime/events';
import { realtimeKeys } from '../shared/realtime/keys';
import { parseTopic } from '../shared/realtime/topics';
import { invokeSecret, openInvoke } from '../shared/realtime/invoke-auth';
import { ConnectionRegistry } from '../shared/realtime/registry';
import { redis } from './lib/redis';

const log = createLogger({ component: 'broadcast' });
const rt = loadRealtimeConfig();
/** Set → only signed invokes are delivered (the invoke port is open to every local process). */
const secret = invokeSecret();
const registry = new ConnectionRegistry(redis(), rt);
const poster = apiGatewayPoster({
  endpoint: rt.wsEndpoint,
  region: rt.region,
  maxSockets: rt.postConcurrency + 2,
});

/**
 * The newest tally of an election topic, as the fan-out last wrote it (keys.ts
 * `tallyLatest`): a delivery under way posts it instead of the one it was given.
 */
async function latestTally(topic: string): Promise<Uint8Array | null> {
  const t = parseTopic(topic);
  if (t?.kind !== 'election') return null;
  const text = await redis().get(realtimeKeys.tallyLatest(t.electionId));
  if (!text) return null;
  try {
    const e: unknown = JSON.parse(text);
    return isRealtimeEvent(e) && e.type === 'tally.updated' && e.topic === topic
      ? Buffer.from(text, 'utf8')
      : null;
  } catch {
    return null;
  }
}

/**
 * `broadcast` (invoked asynchronously by the coordinator that fans out, never over
 * HTTP): one invocation carries many events; each goes to every live subscriber of its
 * topic (or of its shard of them) through the Management API, tallies latest-wins.
 * Gone connections (410) are removed.
 */
export async function handler(event: unknown): Promise<DeliveryReport | { refused: string }> {
  const started = Date.now();
  if (isWarmUp(event)) return { refused: 'warm-up' };
  let req: BroadcastRequest;
  try {
    req = parseBroadcastRequest(secret ? openInvoke(secret, event, started) : event);
  } catch (err) {
    // Never throw: a rejected async invoke is an unhandled rejection in the emulator.
    const reason = err instanceof Error ? err.message : String(err);
    log.warn('broadcast refused', { reason });
    return { refused: reason };
  }
  let errors = 0;
  const report = await deliver(req.events, registry, poster, {
    concurrency: rt.postConcurrency,
    now: Date.now,
    latest: latestTally,
    ...(req.shard ? { shard: req.shard } : {}),
    onError: (connectionId, err) => {
      if (errors++ < 5) log.warn('post failed', { connectionId, ...errorFields(err) });
    },
  });
  // Tell the sender this delivery is done (it holds the next tally of an election until then).
  await Promise.all(
    (req.acks ?? []).map((a) =>
      redis()
        .set(a.key, a.value, 'PX', a.ttlMs)
        .catch((err: unknown) => log.warn('ack failed', { key: a.key, ...errorFields(err) })),
    ),
  );
  log.info('broadcast', {
    ...report,
    from: req.from,
    ...(req.shard ? { shard: `${req.shard.index}/${req.shard.count}` } : {}),
    ms: Date.now() - started,
    ...(req.sentAt ? { queuedMs: started - req.sentAt } : {}),
  });
  return report;
}
