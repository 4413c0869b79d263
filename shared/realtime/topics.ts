import { electionIdPattern, voteIdPattern } from '../ids';

/**
 * The WebSocket topics of API.md: `election:<id>` (tally and lifecycle), `vote:<voteId>`
 * (one vote's status) and `cluster` (leader changes, nodes, clock alarms).
 */
export type Topic =
  | { kind: 'election'; name: string; electionId: string }
  | { kind: 'vote'; name: string; electionId: string; voteId: string }
  | { kind: 'cluster'; name: 'cluster' };

/** Longest topic string accepted (a vote id is about 60 characters). */
export const MAX_TOPIC_CHARS = 200;

/** Parses a topic string; `null` when it names no topic of API.md. */
export function parseTopic(raw: unknown): Topic | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_TOPIC_CHARS) return null;
  if (raw === 'cluster') return { kind: 'cluster', name: 'cluster' };
  const i = raw.indexOf(':');
  if (i < 0) return null;
  const kind = raw.slice(0, i);
  const rest = raw.slice(i + 1);
  if (kind === 'election' && electionIdPattern.test(rest)) {
    return { kind: 'election', name: raw, electionId: rest };
  }
  if (kind === 'vote') {
    const m = voteIdPattern.exec(rest);
    if (m) return { kind: 'vote', name: raw, electionId: m[1]!, voteId: rest };
  }
  return null;
}

export const electionTopic = (electionId: string): string => `election:${electionId}`;
export const voteTopic = (voteId: string): string => `vote:${voteId}`;
export const clusterTopic = 'cluster';
