import { httpHandler } from './lib/http';
import { ceremonies, trusteeRequest } from './lib/secret';

/**
 * `POST /elections/{id}/ceremony/reveals` (trustee): `{to, share}`, the dealer answers a
 * complaint with the share in the clear; the server checks it against the commitments.
 */
export const handler = httpHandler('POST /elections/{id}/ceremony/reveals', async (req) => {
  const { election, index } = await trusteeRequest(req);
  const r = await ceremonies.reveal(election, index, req.body);
  return { status: 200, body: { from: (req.body as { to: number }).to, against: index, ...r } };
});
