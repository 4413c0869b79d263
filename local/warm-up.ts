import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WARM_UP_EVENT } from '../shared/warm-up';

/**
 * Warms every function of serverless.yml at start, as provisioned concurrency does on
 * AWS: serverless-offline loads a handler's bundle (about 1.6 MB each, and the Redis
 * client it creates on load) only when the function is first invoked, so without this
 * the first rush after `npm start` paid for ~40 loads. Each function is invoked once
 * through the Lambda port with {@link WARM_UP_EVENT}, which every handler answers at
 * once: nothing is authenticated, counted or changed (no rate-limit bucket, no log
 * line of a refused request).
 */

/** The function keys declared under `functions:` in serverless.yml (two-space indent). */
export function functionKeys(serverlessYml: string): string[] {
  const lines = serverlessYml.split('\n');
  const start = lines.findIndex((l) => /^functions:\s*$/.test(l));
  if (start < 0) return [];
  const keys: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // the next top-level section
    const m = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (m) keys.push(m[1]!);
  }
  return keys;
}

export interface WarmUpReport {
  /** Per function key: the invoke's HTTP status, or the error that ended it. */
  functions: Record<string, number | string>;
  ms: number;
}

/**
 * Invokes every function once (all at once: the loads are the emulator's work, the
 * requests only start them) and resolves when each has answered or `timeoutMs` passed.
 * Never throws: a function that fails to warm is simply loaded by its first request.
 */
export async function warmFunctions(o: {
  repoRoot: string;
  lambdaPort: number;
  stage: string;
  service?: string;
  timeoutMs?: number;
}): Promise<WarmUpReport> {
  const started = performance.now();
  const keys = functionKeys(readFileSync(join(o.repoRoot, 'serverless.yml'), 'utf8'));
  const service = o.service ?? 'quorumvote';
  const body = JSON.stringify(WARM_UP_EVENT);
  const results = await Promise.all(
    keys.map(async (key): Promise<[string, number | string]> => {
      try {
        const res = await fetch(
          `http://127.0.0.1:${o.lambdaPort}/2015-03-31/functions/${service}-${o.stage}-${key}/invocations`,
          {
            method: 'POST',
            headers: { 'x-amz-invocation-type': 'RequestResponse', 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
          },
        );
        const payload = await res.text();
        // A handler that threw answers 200 too, flagged: that is not warm, it is broken.
        const failed = res.headers.get('x-amz-function-error');
        return [key, failed ? `${failed}: ${payload.slice(0, 200)}` : res.status];
      } catch (err) {
        return [key, err instanceof Error ? err.message : String(err)];
      }
    }),
  );
  return { functions: Object.fromEntries(results), ms: Math.round(performance.now() - started) };
}
