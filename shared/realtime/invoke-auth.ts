import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Authenticates `broadcast` invocations. Locally the Lambda invoke port (3002) runs any
 * function for anyone on the machine, and `broadcast` pushes whatever it is given to
 * every WebSocket subscriber (fake results) and sets acknowledgement keys in Redis. On
 * AWS, IAM decides who may invoke; here (and wherever `INVOKE_SECRET` is set) the
 * sender signs the request with HMAC-SHA256 over its exact JSON text, and the function
 * refuses anything unsigned, forged or older than {@link MAX_INVOKE_AGE_MS}.
 */
export interface SignedInvoke {
  /** The request, as JSON text: the bytes the MAC covers. */
  signed: string;
  /** Hex HMAC-SHA256 of `signed` under the shared secret. */
  mac: string;
}

/** How old (by its `sentAt`) a signed request may be; bounds a replay to stale events. */
export const MAX_INVOKE_AGE_MS = 60_000;

/** The shared secret from `INVOKE_SECRET`, or undefined when invokes are not signed. */
export function invokeSecret(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const s = env['INVOKE_SECRET'];
  if (s === undefined || s === '') return undefined;
  if (s.length < 32) throw new Error('INVOKE_SECRET must be at least 32 characters');
  return s;
}

const mac = (secret: string, text: string): Buffer =>
  createHmac('sha256', secret).update('qv/invoke/v1\n').update(text).digest();

/** Wraps a request (which must carry `sentAt`) for a signed invoke. */
export function signInvoke(secret: string, request: { sentAt?: number }): SignedInvoke {
  const signed = JSON.stringify(request);
  return { signed, mac: mac(secret, signed).toString('hex') };
}

/**
 * The request inside a signed invoke payload, once its MAC and age check out; throws
 * (with a reason fit for a log line, never the secret) otherwise.
 */
export function openInvoke(secret: string, payload: unknown, nowMs: number): unknown {
  const p = payload as Partial<SignedInvoke> | null;
  if (!p || typeof p !== 'object' || typeof p.signed !== 'string' || typeof p.mac !== 'string') {
    throw new Error('unsigned invoke refused (INVOKE_SECRET is set)');
  }
  const given = Buffer.from(/^[0-9a-f]{64}$/.test(p.mac) ? p.mac : '', 'hex');
  const want = mac(secret, p.signed);
  if (given.length !== want.length || !timingSafeEqual(given, want))
    throw new Error('invoke MAC does not match');
  const request = JSON.parse(p.signed) as { sentAt?: unknown };
  const sentAt = typeof request?.sentAt === 'number' ? request.sentAt : Number.NaN;
  if (!(Math.abs(nowMs - sentAt) <= MAX_INVOKE_AGE_MS)) throw new Error('invoke too old (or without sentAt)');
  return request;
}
