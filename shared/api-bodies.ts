import type { Role } from './auth/roles';
import type { ClusterView } from './cluster-view';
import type { Election } from './elections/model';
import type { ResetRecord } from './elections/store';
import type { SubmitResult } from './votes/submit';
import type { AuditPage } from './votes/read';
import type { SecretAuditPage } from './secret/audit-page';

/**
 * The JSON bodies the HTTP API answers with that are not a domain view of their own
 * (those live with their domain: `Election`, `Results`, `VoteView`, `AuditEntry`). The
 * handlers check their bodies against these types (`satisfies`) and the web app imports
 * them type-only, so a field renamed on one side fails the type check of the other.
 * Types only: nothing here runs, in the browser or anywhere else.
 */

/** `POST /auth/token` → 200. */
export interface TokenResponse {
  token: string;
  tokenType: 'Bearer';
  /** Seconds until the token expires. */
  expiresIn: number;
  role: Role;
  sub: string;
  username: string;
}

/** `POST /join` → 200: a token for one joined device of one code-access election (claim `eid`). */
export interface JoinResponse extends TokenResponse {
  electionId: string;
}

/** `POST /auth/credential` → 200: a voter token bound to one election (claim `eid`). */
export interface CredentialTokenResponse extends TokenResponse {
  electionId: string;
}

/** `GET /users` → 200: one page of the user directory. */
export interface UserList {
  users: { id: string; username: string; role: Role; disabled: boolean }[];
  nextCursor?: string;
}

/** `GET /elections` → 200. */
export interface ElectionList {
  elections: Election[];
}

/** `POST /elections/{id}/votes` → 202. */
export type VoteAccepted = Pick<SubmitResult, 'voteId' | 'status' | 'receipt' | 'ballotId' | 'receiptNonce'>;

/** What every audit page adds to its entries. */
interface AuditLogFields {
  electionId: string;
  partitions: number;
  resets: ResetRecord[];
}

/**
 * `GET /elections/{id}/audit` → 200: one page, with the election's resets (never
 * silent). A secret election's page says `ballot: "secret"` and has its own entry shape.
 */
export type AuditLogResponse = (AuditPage & AuditLogFields) | (SecretAuditPage & AuditLogFields);

/** `GET /cluster` → 200: the cluster view plus the pipeline's queues over active elections. */
export interface ClusterResponse extends ClusterView {
  queues: { pending: number; finalized: number; rejected: number; activeElections: number };
}

/** `POST /users` → 201. */
export interface CreatedUser {
  id: string;
  username: string;
  role: Role;
  createdAt: string;
}
