import { requireRole } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { badRequest } from '../shared/errors';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';
import { registerVoterKey } from '../shared/secret/voter-roll';

/**
 * `POST /elections/{id}/voter-key` (voter): `{publicKey}`, registers the voter's Ed25519
 * key on a secret election's roll before voting: 201 when new, 200 when it was already
 * theirs; 409 `voter_key_mismatch` / `key_in_use`.
 */
export const handler = httpHandler('POST /elections/{id}/voter-key', async (req) => {
  const claims = await requireRole(req, 'voter');
  const e = await elections.require(electionIdParam(req.params));
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b))
    throw badRequest('Body must be a JSON object {publicKey}');
  const extra = Object.keys(b).filter((k) => k !== 'publicKey');
  if (extra.length) throw badRequest(`Unknown field(s): ${extra.join(', ')}`, { fields: extra });
  const entry = await registerVoterKey(redis(), e, claims.sub, (b as { publicKey?: unknown }).publicKey);
  return {
    status: entry.registered ? 201 : 200,
    body: { alias: entry.alias, publicKey: entry.publicKey },
  };
});
