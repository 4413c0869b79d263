import { httpHandler } from './lib/http';
import { ceremonies, trusteeRequest } from './lib/secret';

/** `POST /elections/{id}/ceremony/acknowledge` (trustee): every share I received verified. */
export const handler = httpHandler('POST /elections/{id}/ceremony/acknowledge', async (req) => {
  const { election, index } = await trusteeRequest(req);
  await ceremonies.acknowledge(election, index);
  return { status: 200, body: { trustee: index, acknowledged: true } };
});
