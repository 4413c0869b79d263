/**
 * Races a promise against a timer. Used wherever a call must not wait longer than a
 * deadline (a Redis call while the cluster is unreachable, a peer that does not answer).
 * The losing promise is not cancelled: every write behind such a call is idempotent.
 */
export function withDeadline<T>(
  p: Promise<T>,
  ms: number,
  onTimeout: () => Error = () => timeoutError(ms),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const timeoutError = (ms: number): Error => new Error(`timed out after ${ms} ms`);
