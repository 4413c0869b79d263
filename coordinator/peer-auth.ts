import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RAFT_MESSAGE_TYPES, type RaftMessage } from '../shared/consensus/raft';

/**
 * Authentication of coordinator peer traffic. Every election message (and every
 * `/time` answer) carries an HMAC-SHA256, keyed with the cluster secret, over a
 * canonical encoding of all its fields plus a timestamp and a random nonce:
 *
 * - only a holder of the secret can produce a message the election state machine sees;
 * - nothing unsigned reaches it: the message is rebuilt from the signed fields only;
 * - a captured message cannot be replayed: it is refused outside a window around the
 *   receiver's clock, and within the window its nonce is remembered and refused again.
 *
 * The canonical encoding is a JSON array in a fixed order (no key-order or
 * concatenation ambiguity), starting with a version label and the cluster name so a
 * message of one cluster (or one purpose) never verifies as another.
 */

const VERSION = 'qv-peer-v1';
const NONCE_RE = /^[0-9a-f]{32}$/;
const MAC_RE = /^[0-9a-f]{64}$/;
const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** A Raft message as it travels between coordinators (body of `POST /raft`). */
export interface SignedRaftEnvelope {
  message: RaftMessage;
  /** Sender's wall clock (ms since the epoch) when it signed. */
  ts: number;
  /** 16 random bytes as hex, unique per message. */
  nonce: string;
  /** HMAC-SHA256 (hex) of the canonical encoding. */
  mac: string;
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** The HMAC of one canonical record. */
export function macOf(secret: Buffer, cluster: string, kind: string, fields: readonly unknown[]): string {
  return createHmac('sha256', secret)
    .update(JSON.stringify([VERSION, cluster, kind, ...fields]))
    .digest('hex');
}

/** Constant-time comparison of two hex MACs (both already checked to be 64 hex digits). */
export function macEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

function raftFields(m: RaftMessage, ts: number, nonce: string): unknown[] {
  const granted = 'granted' in m ? m.granted : null;
  const transfer = m.type === 'requestVote' && m.transfer === true;
  return [ts, nonce, m.type, m.from, m.to, m.term, granted, transfer];
}

export function signRaft(
  secret: Buffer,
  cluster: string,
  message: RaftMessage,
  ts: number,
): SignedRaftEnvelope {
  const nonce = newNonce();
  return { message, ts, nonce, mac: macOf(secret, cluster, 'raft', raftFields(message, ts, nonce)) };
}

/** Why a peer message was refused; `status` is the HTTP status to answer with. */
export interface PeerRefusal {
  status: 400 | 401;
  code: 'invalid_request' | 'unauthorized';
  message: string;
}

const refuse = (message: string): PeerRefusal => ({ status: 401, code: 'unauthorized', message });
const malformed = (message: string): PeerRefusal => ({ status: 400, code: 'invalid_request', message });

/** Rebuilds a Raft message from untrusted JSON, keeping only the fields that are signed. */
function parseRaftMessage(v: unknown): RaftMessage | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const { type, from, to, term } = o;
  if (typeof type !== 'string' || !RAFT_MESSAGE_TYPES.has(type)) return null;
  if (typeof from !== 'string' || !ID_RE.test(from) || typeof to !== 'string' || !ID_RE.test(to)) return null;
  if (typeof term !== 'number' || !Number.isSafeInteger(term) || term < 0) return null;
  if (type === 'voteResponse' || type === 'preVoteResponse') {
    if (typeof o['granted'] !== 'boolean') return null;
    return { type, from, to, term, granted: o['granted'] };
  }
  if (type === 'requestVote') {
    if (o['transfer'] !== undefined && typeof o['transfer'] !== 'boolean') return null;
    return o['transfer'] === true
      ? { type, from, to, term, transfer: true }
      : { type: 'requestVote', from, to, term };
  }
  return { type: type as 'heartbeat' | 'heartbeatResponse' | 'timeoutNow' | 'preVote', from, to, term };
}

export interface PeerVerifierOptions {
  secret: Buffer;
  cluster: string;
  /** A message signed more than this far (either way) from the receiver's clock is refused. */
  windowMs: number;
  /** Wall clock of the receiver (ms). */
  now: () => number;
  /** Upper bound on remembered nonces; beyond it new messages are refused (fail closed). */
  maxRemembered?: number;
}

/**
 * Verifies signed Raft envelopes and remembers the nonces of accepted ones for as long
 * as their timestamp is inside the window, so each message is accepted at most once.
 */
export class PeerVerifier {
  private readonly seen = new Map<string, number>();
  private nextPruneAt = 0;
  private readonly maxRemembered: number;

  constructor(private readonly o: PeerVerifierOptions) {
    this.maxRemembered = o.maxRemembered ?? 100_000;
  }

  /** The authenticated message, or why it was refused. Never throws. */
  verify(body: unknown): { ok: true; message: RaftMessage } | { ok: false; refusal: PeerRefusal } {
    if (typeof body !== 'object' || body === null)
      return { ok: false, refusal: malformed('Expected a signed envelope') };
    const b = body as Record<string, unknown>;
    const { ts, nonce, mac } = b;
    if (
      typeof mac !== 'string' ||
      !MAC_RE.test(mac) ||
      typeof nonce !== 'string' ||
      !NONCE_RE.test(nonce) ||
      typeof ts !== 'number' ||
      !Number.isSafeInteger(ts)
    ) {
      return { ok: false, refusal: refuse('The message is not signed with the cluster secret') };
    }
    const message = parseRaftMessage(b['message']);
    if (!message) return { ok: false, refusal: malformed('Not a valid election message') };
    const expected = macOf(this.o.secret, this.o.cluster, 'raft', raftFields(message, ts, nonce));
    if (!macEquals(expected, mac)) return { ok: false, refusal: refuse('Bad signature') };
    const now = this.o.now();
    if (Math.abs(now - ts) > this.o.windowMs) {
      return { ok: false, refusal: refuse('The message is too old or from the future (replay window)') };
    }
    this.prune(now);
    const key = `${message.from}|${nonce}`;
    if (this.seen.has(key)) return { ok: false, refusal: refuse('Replayed message') };
    if (this.seen.size >= this.maxRemembered)
      return { ok: false, refusal: refuse('Too many messages; retry') };
    // Remember it until its timestamp leaves the window: after that the window check refuses it.
    this.seen.set(key, ts + this.o.windowMs);
    return { ok: true, message };
  }

  private prune(now: number): void {
    if (now < this.nextPruneAt && this.seen.size < this.maxRemembered) return;
    this.nextPruneAt = now + 1000;
    for (const [k, until] of this.seen) if (until < now) this.seen.delete(k);
  }
}

/** Signs a `/time` answer, bound to the asker's nonce so it cannot be replayed to it. */
export function signTime(secret: Buffer, cluster: string, node: string, nonce: string, now: number): string {
  return macOf(secret, cluster, 'time', [node, nonce, now]);
}

/** Checks a `/time` answer against the nonce this node sent. */
export function verifyTime(
  secret: Buffer,
  cluster: string,
  reply: unknown,
  expectNode: string,
  nonce: string,
): number | null {
  if (typeof reply !== 'object' || reply === null) return null;
  const r = reply as Record<string, unknown>;
  if (typeof r['now'] !== 'number' || !Number.isFinite(r['now']) || r['node'] !== expectNode) return null;
  if (typeof r['mac'] !== 'string' || !MAC_RE.test(r['mac'])) return null;
  return macEquals(signTime(secret, cluster, expectNode, nonce, r['now']), r['mac']) ? r['now'] : null;
}

/** Whether `nonce` has the shape this protocol uses (the `/time` route checks it). */
export function isNonce(v: unknown): v is string {
  return typeof v === 'string' && NONCE_RE.test(v);
}
