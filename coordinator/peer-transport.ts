import { type Agent, request } from 'node:http';
import type { RaftMessage } from '../shared/consensus/raft';
import { newNonce, signRaft, verifyTime } from './peer-auth';

/**
 * Coordinator-to-coordinator HTTP: signed election messages to a peer's `POST /raft`
 * (fire and forget, as Raft expects a lossy network) and signed clock readings from
 * the leader's `GET /time`. Receiving is in peer-auth.ts (`PeerVerifier`).
 */
export interface PeerTransportOptions {
  selfId: string;
  secret: Buffer;
  cluster: string;
  agent: Agent;
  /** Wall clock used for signing timestamps (not the artificially skewed one). */
  now: () => number;
}

export class PeerTransport {
  constructor(private readonly o: PeerTransportOptions) {}

  /** Sends one signed message; failures are swallowed (Raft retries by itself). */
  send(adminUrl: string, message: RaftMessage, timeoutMs = 300): Promise<void> {
    const envelope = signRaft(this.o.secret, this.o.cluster, message, this.o.now());
    return httpJson(this.o.agent, 'POST', `${adminUrl}/raft`, envelope, timeoutMs).then(
      () => {},
      () => {},
    );
  }

  /** The peer's clock reading, or null when the answer is missing or not signed by a cluster member. */
  async readTime(adminUrl: string, peerId: string, timeoutMs = 500): Promise<number | null> {
    const nonce = newNonce();
    const reply = await httpJson(
      this.o.agent,
      'GET',
      `${adminUrl}/time?nonce=${nonce}`,
      undefined,
      timeoutMs,
    );
    return verifyTime(this.o.secret, this.o.cluster, reply, peerId, nonce);
  }
}

function httpJson(
  agent: Agent,
  method: string,
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      url,
      {
        method,
        agent,
        timeout: timeoutMs,
        headers: data
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}
