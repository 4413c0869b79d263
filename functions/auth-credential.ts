import { systemClock } from '../shared/clock';
import { loadSigningKey } from '../shared/auth/keys';
import { LoginThrottle, loadLoginThrottleConfig } from '../shared/auth/login-throttle';
import { RevocationList } from '../shared/auth/revocations';
import { ApiError, badRequest } from '../shared/errors';
import { parseBody } from '../shared/request-body';
import { credentialRequestSchema } from '../shared/roll/request-schemas';
import { httpHandler } from './lib/http';
import { signedIn } from './lib/sign-in';
import { config, redis } from './lib/redis';
import { rolls } from './lib/roll';
import type { CredentialTokenResponse } from '../shared/api-bodies';

// Issues tokens, so it holds the private key like POST /auth/token (read at start).
const signingKey = loadSigningKey({ keyDir: config.jwt.keyDir });
const throttle = new LoginThrottle(redis(), systemClock, loadLoginThrottleConfig());
const revocations = new RevocationList(redis());

const invalid = (): ApiError =>
  new ApiError(
    401,
    'invalid_credentials',
    'This voting credential is not valid (unknown, revoked or reissued)',
  );

/**
 * `POST /auth/credential` `{credential}` → `200` like `POST /auth/token` plus
 * `electionId`: a voter token bound to the credential's election (claim `eid`) and
 * stamped with the voter's session version, so a later reissue or revoke ends it;
 * `401 invalid_credentials`; `429 rate_limited` per client address. The credential is
 * never logged (the body is not, and errors do not echo it).
 */
export const handler = httpHandler('POST /auth/credential', async (req) => {
  const body = parseBody(credentialRequestSchema, req.body, () =>
    badRequest('Send a JSON body {credential}', { field: 'credential' }),
  );
  await throttle.admitCredential(req.sourceIp);
  const match = await rolls.matchCredential(body.credential);
  if (!match) {
    await throttle.credentialFailed(req.sourceIp);
    throw invalid();
  }
  const state = await revocations.state(match.voterId);
  if (state.disabled) {
    await throttle.credentialFailed(req.sourceIp);
    throw invalid();
  }
  const [answer] = await Promise.all([
    signedIn(
      {
        sub: match.voterId,
        role: 'voter',
        username: match.name ?? match.voterId,
        sv: state.version,
        eid: match.electionId,
      },
      signingKey,
    ),
    throttle.credentialSucceeded(req.sourceIp),
  ]);
  return answer as { status: 200; body: CredentialTokenResponse };
});
