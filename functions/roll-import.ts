import { systemClock } from '../shared/clock';
import { ApiError } from '../shared/errors';
import { MAX_ROLL_BODY_BYTES, invalidRoll, parseRollImport } from '../shared/roll/roll-input';
import { requireRole } from './lib/auth';
import { electionIdParam, elections } from './lib/elections';
import { httpHandler } from './lib/http';
import { rolls, webOrigin } from './lib/roll';

/**
 * `POST /elections/{id}/roll` (admin): `{voters:[...]}` or `{csv:"..."}` → `201
 * {imported, voters}` with each new voter's credential and voting link (shown only
 * here); `400 invalid_roll` listing every bad line, nothing stored; `409
 * election_closed`. Never logs a credential: the answer goes to the caller only.
 */
export const handler = httpHandler(
  'POST /elections/{id}/roll',
  async (req) => {
    await requireRole(req, 'admin');
    const e = await elections.require(electionIdParam(req.params));
    if (e.status === 'closed' || (e.closesAt !== null && systemClock.now() >= Date.parse(e.closesAt))) {
      throw new ApiError(409, 'election_closed', 'This election is closed: its roll can no longer change');
    }
    const voters = parseRollImport(req.body);
    // A secret ballot's tally is a sum of encrypted 0/1 selections: it cannot weigh a ballot.
    if (e.ballot === 'secret') {
      const weighted = voters.filter((v) => v.weight !== 1);
      if (weighted.length > 0) {
        throw invalidRoll(
          weighted.map((v) => ({
            line: v.line,
            field: 'weight',
            message: 'a secret-ballot election counts every ballot once: weight must be 1',
          })),
        );
      }
    }
    const body = await rolls.import(e.id, voters, webOrigin(req));
    return { status: 201, body };
  },
  { maxBodyBytes: MAX_ROLL_BODY_BYTES },
);
