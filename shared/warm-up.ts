/**
 * The event that warms a function without doing anything (as a scheduled warmer or
 * provisioned concurrency would on AWS): `npm start` invokes every function with it
 * once serverless-offline listens, so that loading the handler bundles is not billed to
 * the first voters. (Each bundle's Redis Cluster client is still created and connected
 * by its first real request: functions/lib/redis.ts makes it on first use.) A handler answers it
 * at once, before authentication or any other work, so it reveals and changes nothing.
 */
export const WARM_UP_EVENT = { quorumvoteWarmUp: true } as const;

export function isWarmUp(event: unknown): boolean {
  return (
    event !== null &&
    typeof event === 'object' &&
    (event as Record<string, unknown>)['quorumvoteWarmUp'] === true
  );
}
