import { loadSigningKey } from '../shared/auth/keys';
import { joinedIdentity } from '../shared/auth/join-identity';
import { RevocationList } from '../shared/auth/revocations';
import { systemClock } from '../shared/clock';
import { clearlyPastClose } from '../shared/elections/model';
import { parseJoinRequest } from '../shared/elections/join-request';
import { ApiError } from '../shared/errors';
import { loadSettings } from '../shared/settings/load';
import { rateLimitFromEnv } from '../shared/votes/rate-limit';
import { takeJoin } from '../shared/elections/join-limits';
import type { JoinResponse } from '../shared/api-bodies';
import { elections, joins } from './lib/elections';
import { httpHandler } from './lib/http';
import { signedIn } from './lib/sign-in';
import { config, redis } from './lib/redis';

// Like POST /auth/token, this function mints tokens: the private key is read at start.
const signingKey = loadSigningKey({ keyDir: config.jwt.keyDir });
const revocations = new RevocationList(redis());
const settings = loadSettings();
const limits = {
  address: rateLimitFromEnv('RATE_LIMIT_JOIN_IP', 'RATE_LIMIT_JOIN_WINDOW_MS'),
  election: rateLimitFromEnv('RATE_LIMIT_JOIN_ELECTION', 'RATE_LIMIT_JOIN_WINDOW_MS'),
};

const unknownCode = (): ApiError =>
  new ApiError(404, 'unknown_code', 'No poll has this join code: check the code, or ask for the link again');

/**
 * `POST /join` `{code, device}` → `200` a voter token for the code's election (claim
 * `eid`), like `POST /auth/token` plus `electionId`. The identity is derived from the
 * election and the device secret (shared/auth/join-identity.ts), so a device that joins
 * again gets the same identity, and so one vote. Only a device's first join counts
 * against the limits: per client address and per election (token buckets, `429` with
 * Retry-After) and the election's cap (`409 join_full`). `404 unknown_code`; `409
 * election_not_open` once the election is closed (joining a draft is allowed: a room
 * joins before the poll opens).
 */
export const handler = httpHandler('POST /join', async (req) => {
  const { code, device } = parseJoinRequest(req.body);
  const electionId = await joins.electionOf(code);
  const election = electionId ? await elections.get(electionId) : null;
  if (election?.access !== 'code' || !election.joinKey) throw unknownCode();
  if (election.status === 'closed' || clearlyPastClose(election.closesAt, systemClock.now())) {
    throw new ApiError(409, 'election_not_open', 'This poll is closed: joining is no longer possible');
  }
  const sub = joinedIdentity(election.joinKey, election.id, device);
  if (!(await joins.hasJoined(election.id, sub))) {
    await takeJoin(redis(), systemClock, election.id, req.sourceIp, limits);
    if ((await joins.join(election.id, sub, settings.JOIN_MAX_PER_ELECTION)) === 'full') {
      throw new ApiError(
        409,
        'join_full',
        `This poll has reached its limit of ${settings.JOIN_MAX_PER_ELECTION} participants`,
      );
    }
  }
  // An admin may end a joined identity's sessions or disable it, as for any account.
  const state = await revocations.state(sub);
  if (state.disabled) throw new ApiError(403, 'user_disabled', 'This participant has been disabled');
  const username = `guest-${sub.slice(3, 9)}`;
  const answer = await signedIn(
    { sub, role: 'voter', username, sv: state.version, eid: election.id },
    signingKey,
  );
  return answer as { status: 200; body: JoinResponse };
});
