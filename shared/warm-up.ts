/**
 * The event that warms a function without doing anything (as a scheduled warmer or
 * provisioned concurrency would on AWS): `npm start` invokes every function with it
 * once serverless-offline listens, so that loading the handler bundles (and the Redis
 * clients they create on load) is not billed to the first voters. A handler answers it
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
