/**
 * The issue-17 endpoints (voter rolls, voting credentials, join codes, user search) as
 * the web app calls them, after the contract agreed in docs/api.md. Their bodies are
 * declared here, not imported from shared/, so the web app builds against the contract
 * while the server side of each endpoint lands independently.
 */
import {
  type Election,
  type ElectionList,
  request,
  type TokenResponse,
  type VoteAccepted,
  withRetries,
} from '../api';

/** The election fields of issue 17 (`GET /elections/{id}`: joinCode, joined, roll for admins only). */
export type RoomElection = Election & {
  access?: 'roll' | 'code';
  maxChoices?: number;
  joinCode?: string;
  joined?: number;
  roll?: { voters: number; credentialsActive: number };
};

/** One voter of a roll import, as sent (JSON import). */
export interface RollVoterInput {
  name?: string;
  email?: string;
  externalId?: string;
  username?: string;
  weight?: number;
  group?: string;
}

/** A voter as the import answers it: `credential` and `link` appear in this answer only. */
export interface ImportedVoter extends RollVoterInput {
  voterId: string;
  weight: number;
  credential?: string;
  link?: string;
}

export interface RollImported {
  imported: number;
  voters: ImportedVoter[];
}

/** A voter as the roll listing shows it: never the credential itself, only its state. */
export interface RollEntry extends RollVoterInput {
  voterId: string;
  weight: number;
  credential: 'active' | 'revoked' | 'none';
  voted: boolean;
}

export interface RollPage {
  voters: RollEntry[];
  nextCursor?: string;
}

/** One line-numbered problem of a refused import (`error.details` of 400 invalid_roll). */
export interface RollProblem {
  line: number;
  field?: string;
  message: string;
}

export interface UserSummary {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
}

export interface UserPage {
  users: UserSummary[];
  nextCursor?: string;
}

/** `POST /auth/credential` and `POST /join` → 200: a token bound to one election. */
export type BoundToken = TokenResponse & { electionId: string };

/** What an import sends: the CSV text as it is, or the voters of a JSON file. */
export type RollBody = { csv: string } | { voters: RollVoterInput[] };

const path = (id: string) => `/elections/${encodeURIComponent(id)}`;
const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};

export const roomApi = {
  election: (token: string, id: string) => request<RoomElection>('GET', path(id), { token }),
  elections: (token: string) => request<ElectionList>('GET', '/elections', { token }),
  importRoll: (token: string, id: string, body: RollBody) =>
    request<RollImported>('POST', `${path(id)}/roll`, { token, body }),
  roll: (token: string, id: string, q: string, cursor?: string, limit = 50) =>
    request<RollPage>('GET', `${path(id)}/roll${query({ q, cursor, limit })}`, { token }),
  reissue: (token: string, id: string, voterId: string) =>
    request<{ voterId: string; credential: string; link: string }>(
      'POST',
      `${path(id)}/roll/${encodeURIComponent(voterId)}/reissue`,
      { token },
    ),
  revoke: (token: string, id: string, voterId: string) =>
    request<{ voterId: string; credential: 'revoked' }>(
      'POST',
      `${path(id)}/roll/${encodeURIComponent(voterId)}/revoke`,
      { token },
    ),
  users: (token: string, q: string, cursor?: string, limit = 20) =>
    request<UserPage>('GET', `/users${query({ q, cursor, limit })}`, { token }),
  signInWithCredential: (credential: string) =>
    request<BoundToken>('POST', '/auth/credential', { body: { credential } }),
  /** A join is idempotent (same code + device = same identity): safe to retry after 503. */
  join: (code: string, device: string) =>
    withRetries(() => request<BoundToken>('POST', '/join', { body: { code, device } })),
  /** An approval ballot: 1..maxChoices distinct options; retried with the same key like api.vote. */
  voteMany: (token: string, id: string, optionIds: string[], idempotencyKey: string) =>
    withRetries(() =>
      request<VoteAccepted>('POST', `${path(id)}/votes`, {
        token,
        body: { optionIds },
        headers: { 'idempotency-key': idempotencyKey },
      }),
    ),
};
