import { httpHandler } from './lib/http';
import { ceremonies, trusteeRequest } from './lib/secret';

/** `GET /elections/{id}/ceremony/shares` (trustee): the sealed shares addressed to the caller. */
export const handler = httpHandler('GET /elections/{id}/ceremony/shares', async (req) => {
  const { election, index } = await trusteeRequest(req);
  return { status: 200, body: { trustee: index, ...(await ceremonies.sharesFor(election, index)) } };
});
