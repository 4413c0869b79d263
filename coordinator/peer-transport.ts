import { Agent, request } from 'node:http';
import type { RaftMessage } from '../shared/consensus/raft';
import { newNonce, signRaft, verifyTime } from './peer-auth';

/**
 * How the election driver reaches its peers, by id: the port `CoordinatorNode` depends
 * on. Raft expects a lossy network, so a send never fails; a clock reading is null
 * when it is missing or not signed by a cluster member.
 */
export interface PeerPort {
  /** Sends one signed message to `message.to` (fire and forget). */
  send(message: RaftMessage): Promise<void>;
  /** Peer `peerId`'s clock reading, signed for this request, or null. */
  readTime(peerId: string): Promise<number | null>;
  /** Releases the connections. */
  close(): void;
}

/**
 * Coordinator-to-coordinator HTTP: signed election messages to a peer's `POST /raft`
 * and signed clock readings from the leader's `GET /time`, over keep-alive
 * connections. Receiving is in peer-auth.ts (`PeerVerifier`).
 */
export interface PeerTransportOptions {
  selfId: string;
  secret: Buffer;
  cluster: string;
  /** Wall clock used for signing timestamps (not the artificially skewed one). */
  now: () => number;
  /** A peer's admin URL (from the membership records), or undefined while it is unknown. */
  addressOf: (peerId: string) => string | undefined;
}

export class HttpPeerTransport implements PeerPort {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });

  constructor(private readonly o: PeerTransportOptions) {}

  /** Sends one signed message; failures are swallowed (Raft retries by itself). */
  send(message: RaftMessage, timeoutMs = 300): Promise<void> {
    const adminUrl = this.o.addressOf(message.to);
    if (!adminUrl) return Promise.resolve();
    const envelope = signRaft(this.o.secret, this.o.cluster, message, this.o.now());
    return httpJson(this.agent, 'POST', `${adminUrl}/raft`, envelope, timeoutMs).then(
      () => {},
      () => {},
    );
  }

  async readTime(peerId: string, timeoutMs = 500): Promise<number | null> {
    const adminUrl = this.o.addressOf(peerId);
    if (!adminUrl) return null;
    const nonce = newNonce();
    const reply = await httpJson(this.agent, 'GET', `${adminUrl}/time?nonce=${nonce}`, undefined, timeoutMs);
    return verifyTime(this.o.secret, this.o.cluster, reply, peerId, nonce);
  }

  close(): void {
    this.agent.destroy();
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
