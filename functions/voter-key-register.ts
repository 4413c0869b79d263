import { requireVoterFor } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';
import { parseVoterKeyRequest } from '../shared/secret/request-bodies';
import { registerVoterKey } from '../shared/secret/voter-roll';

/**
 * `POST /elections/{id}/voter-key` (voter): `{publicKey}`, registers the voter's Ed25519
 * key on a secret election's roll before voting: 201 when new, 200 when it was already
 * theirs; 409 `voter_key_mismatch` / `key_in_use`.
 */
export const handler = httpHandler('POST /elections/{id}/voter-key', async (req) => {
  const { claims, electionId } = await requireVoterFor(req, () => electionIdParam(req.params));
  const e = await elections.require(electionId);
  const { publicKey } = parseVoterKeyRequest(req.body);
  const entry = await registerVoterKey(redis(), e, claims.sub, publicKey);
  return {
    status: entry.registered ? 201 : 200,
    body: { alias: entry.alias, publicKey: entry.publicKey },
  };
});
