/**
 * The HTTP API (API.md), called through the web server's same-origin `/api` proxy.
 * Every failure becomes an {@link ApiError} with a message a person can act on. The
 * bodies are the server's own types, imported type-only from shared/ (erased from the
 * bundle): a field the server renames fails this app's type check.
 */
import type { Role } from '../../shared/auth/roles';
import { ApiCallError } from '../../shared/secret/api-call';
import type { Election, ElectionOption } from '../../shared/elections/model';
import type { Results, VoteView } from '../../shared/votes/read';
import type { CeremonyView } from '../../shared/secret/ceremony';
import type {
  AuditLogResponse,
  ClusterResponse,
  CreatedUser,
  ElectionList,
  TokenResponse,
  VoteAccepted,
} from '../../shared/api-bodies';

export const API_BASE = '/api';

export type { Role } from '../../shared/auth/roles';
export type { Election, ElectionOption as Option } from '../../shared/elections/model';
export type { AuditEntry, Results, VoteView as VoteStatus } from '../../shared/votes/read';
export type {
  AuditLogResponse,
  ClusterResponse as ClusterView,
  CreatedUser,
  ElectionList,
  TokenResponse,
  VoteAccepted,
} from '../../shared/api-bodies';

/** The signed-in user, as the app keeps it (in sessionStorage) between page loads. */
export interface Session {
  token: string;
  role: Role;
  sub: string;
  username: string;
  expiresAt: number;
  /** Set for a session from a voting link or a join code: its token is valid for this election only. */
  electionId?: string;
}

/** Plain-language explanations of the error codes of API.md. */
const MESSAGES: Record<string, string> = {
  invalid_credentials: 'Wrong username or password.',
  unauthorized: 'Your session has expired or is not valid. Please sign in again.',
  forbidden: 'Your role is not allowed to do this.',
  already_voted: 'You have already voted in this election. Only your first vote counts.',
  not_eligible: 'You are not on the voter list of this election.',
  election_not_open: 'This election is not open for voting (it has not opened yet, or it is closed).',
  invalid_option: 'That option is not part of this election.',
  invalid_request: 'The request was not valid.',
  not_found: 'Not found: it may have been removed, or the id is wrong.',
  rate_limited: 'Too many requests. Wait a moment, then try again.',
  unavailable:
    'The voting cluster is recovering and could not confirm this in time. Try again shortly: a ballot sent again is never counted twice.',
  idempotency_key_reused:
    'This ballot was already sent with a different choice. Reload the page to vote again.',
  user_exists: 'A user with this username already exists.',
  payload_too_large: 'The request is too large.',
  voter_key_mismatch:
    'This ballot is signed with another key than the one registered for you in this election: import the voter key file of the device you first used.',
  key_in_use: 'This voter key is already registered to another voter.',
  not_on_roll: 'You are not on the voter roll of this election.',
  wrong_election: 'This sign-in is valid for another election only.',
  unknown_code: 'No poll has this code. Check the code and try again.',
  invalid_roll: 'The voter roll was not imported: fix the lines listed below and import it again.',
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterS?: number,
    /** `error.details` of the answer, e.g. the line-numbered problems of a refused roll. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** Errors worth retrying as they are: rate limits, unavailability, network failures. */
  get retryable(): boolean {
    return this.status === 429 || this.status === 503 || this.status === 0 || this.status === 502;
  }
}

export function describeError(err: unknown): string {
  // The shared secret-ballot clients (voter, trustee) report API refusals this way.
  if (err instanceof ApiCallError) return MESSAGES[err.code] ?? `${err.serverMessage || err.message}`;
  if (err instanceof ApiError) {
    const retry = err.retryAfterS ? ` (retry in about ${err.retryAfterS} s)` : '';
    return `${err.message}${retry}`;
  }
  return err instanceof Error ? err.message : String(err);
}

let onUnauthorized: (() => void) | undefined;
export function setUnauthorizedHandler(fn: (() => void) | undefined): void {
  onUnauthorized = fn;
}

export async function request<T>(
  method: string,
  path: string,
  opts: { token?: string | undefined; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
  }
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  // serverless-offline answers a Lambda that timed out or crashed with 200 and the
  // Lambda error envelope (AWS answers 5xx): never take that for the route's answer.
  if (res.ok && isLambdaErrorEnvelope(body)) {
    throw new ApiError(502, 'unavailable', MESSAGES['unavailable'] ?? 'The service is busy. Try again.');
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    const code = e?.code ?? (res.status === 502 ? 'unavailable' : `http_${res.status}`);
    const retryAfter = Number(res.headers.get('retry-after') ?? '') || undefined;
    const friendly = MESSAGES[code];
    const message = friendly
      ? e?.message && code === 'invalid_request'
        ? `${friendly} ${e.message}`
        : friendly
      : (e?.message ?? `The server answered ${res.status}.`);
    if (res.status === 401 && code !== 'invalid_credentials') onUnauthorized?.();
    throw new ApiError(res.status, code, message, retryAfter, e?.details);
  }
  return body as T;
}

/** A Lambda runtime error (`{errorMessage, errorType}`), not an answer of ours. */
export function isLambdaErrorEnvelope(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false;
  const b = body as Record<string, unknown>;
  return typeof b['errorMessage'] === 'string' && typeof b['errorType'] === 'string';
}

/** Attempts of an idempotent request before its last error is shown. */
export const RETRY_ATTEMPTS = 5;
const MAX_RETRY_WAIT_S = 10;

/**
 * Retries a request that is safe to repeat (same Idempotency-Key) after 503, 502 and
 * network errors, waiting what Retry-After says (1 s when absent, at most 10 s), for at
 * most {@link RETRY_ATTEMPTS} attempts. Other errors (409, 422, 429...) come back at once.
 */
export async function withRetries<T>(
  fn: () => Promise<T>,
  attempts = RETRY_ATTEMPTS,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const again = err instanceof ApiError && [0, 502, 503].includes(err.status) && attempt < attempts;
      if (!again) throw err;
      await sleep(Math.min(MAX_RETRY_WAIT_S, err.retryAfterS ?? 1) * 1000);
    }
  }
}

export const api = {
  // Safe to repeat: a sign-in the server never finished is retried like a busy one.
  signIn: (username: string, password: string) =>
    withRetries(() =>
      request<TokenResponse>('POST', '/auth/token', {
        body: { username, password },
      }),
    ),
  elections: (token: string) => request<ElectionList>('GET', '/elections', { token }),
  election: (token: string, id: string) =>
    request<Election>('GET', `/elections/${encodeURIComponent(id)}`, { token }),
  createElection: (
    token: string,
    body: {
      title: string;
      options: ElectionOption[];
      opensAt?: string;
      closesAt?: string;
      voters?: string[];
      access?: 'roll' | 'code';
      maxChoices?: number;
      /** A secret ballot (docs/api.md "Secret ballots"): its trustees (user ids) and threshold k. */
      ballot?: 'secret';
      trustees?: string[];
      threshold?: number;
      maxSelections?: number;
    },
  ) => request<Election>('POST', '/elections', { token, body }),
  /** A secret election's key ceremony, public values only (any role). */
  ceremony: (token: string, id: string) =>
    request<CeremonyView>('GET', `/elections/${encodeURIComponent(id)}/ceremony`, { token }),
  /** Admin: closes the key ceremony (Q, the joint key; `failed` when fewer than k qualify). */
  finishCeremony: (token: string, id: string) =>
    request<CeremonyView>('POST', `/elections/${encodeURIComponent(id)}/ceremony/finish`, { token }),
  open: (token: string, id: string) =>
    request<Election>('POST', `/elections/${encodeURIComponent(id)}/open`, { token }),
  close: (token: string, id: string) =>
    request<Election>('POST', `/elections/${encodeURIComponent(id)}/close`, { token }),
  results: (token: string, id: string) =>
    request<Results>('GET', `/elections/${encodeURIComponent(id)}/results`, { token }),
  /**
   * Casts a vote. A 503 (the vote could not be confirmed on two Redis processes yet) or
   * a lost connection is retried here with the same Idempotency-Key, honouring
   * Retry-After: the server answers the same vote id once it is safe, never a second vote.
   */
  vote: (token: string, id: string, optionId: string, idempotencyKey: string) =>
    withRetries(() =>
      request<VoteAccepted>('POST', `/elections/${encodeURIComponent(id)}/votes`, {
        token,
        body: { optionId },
        headers: { 'idempotency-key': idempotencyKey },
      }),
    ),
  voteStatus: (token: string, voteId: string) =>
    request<VoteView>('GET', `/votes/${encodeURIComponent(voteId)}`, { token }),
  audit: (token: string, id: string, cursor: string | null, limit = 1000) =>
    request<AuditLogResponse>(
      'GET',
      `/elections/${encodeURIComponent(id)}/audit?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    ),
  cluster: (token: string) => request<ClusterResponse>('GET', '/cluster', { token }),
  createUser: (token: string, body: { username: string; password: string; role: Role }) =>
    request<CreatedUser>('POST', '/users', { token, body }),
};
