import { systemClock } from '../shared/clock';
import { submitDecryptionShare } from '../shared/secret/tally';
import { httpHandler } from './lib/http';
import { redis } from './lib/redis';
import { trusteeRequest } from './lib/secret';

/**
 * `POST /elections/{id}/decryption-shares` (trustee): the caller's decryption share of
 * the final tally, every proof checked (422 `bad_decryption_proof` names the option);
 * with k valid shares the totals are published.
 */
export const handler = httpHandler('POST /elections/{id}/decryption-shares', async (req) => {
  const { election, index } = await trusteeRequest(req);
  const r = await submitDecryptionShare(redis(), systemClock, election, index, req.body);
  return { status: 201, body: { trustee: index, ...r } };
});
