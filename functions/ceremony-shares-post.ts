import { httpHandler } from './lib/http';
import { ceremonies, trusteeRequest } from './lib/secret';

/** `POST /elections/{id}/ceremony/shares` (trustee): one sealed share for every other trustee. */
export const handler = httpHandler('POST /elections/{id}/ceremony/shares', async (req) => {
  const { election, index } = await trusteeRequest(req);
  const r = await ceremonies.dealShares(election, index, req.body);
  return { status: 200, body: { trustee: index, ...r } };
});
