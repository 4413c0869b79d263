import { requireRole } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { ceremonies } from './lib/secret';

/** `POST /elections/{id}/ceremony/finish` (admin): Q, the joint key and the election hash. */
export const handler = httpHandler('POST /elections/{id}/ceremony/finish', async (req) => {
  await requireRole(req, 'admin');
  const e = await elections.require(electionIdParam(req.params));
  return { status: 200, body: await ceremonies.finish(e) };
});
