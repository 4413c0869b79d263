import { httpHandler } from './lib/http';
import { ceremonies, trusteeRequest } from './lib/secret';

/** `POST /elections/{id}/ceremony/complaints` (trustee): `{against}`, a share from that dealer failed. */
export const handler = httpHandler('POST /elections/{id}/ceremony/complaints', async (req) => {
  const { election, index } = await trusteeRequest(req);
  await ceremonies.complain(election, index, req.body);
  return { status: 201, body: { from: index, against: (req.body as { against: number }).against } };
});
