import { parseNewElection } from '../shared/elections/new-election';
import { adminElection } from '../shared/elections/store';
import { requireRole } from './lib/auth';
import { elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { webOrigin } from './lib/roll';

/** `POST /elections` (admin): creates a draft election (with its join code for access `code`). */
export const handler = httpHandler('POST /elections', async (req) => {
  await requireRole(req, 'admin');
  const input = parseNewElection(req.body);
  const e = await elections.create(input);
  return { status: 201, body: adminElection(e, 0, webOrigin(req)) };
});
