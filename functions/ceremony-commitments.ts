import { httpHandler } from './lib/http';
import { ceremonies, trusteeRequest } from './lib/secret';

/**
 * `POST /elections/{id}/ceremony/commitments` (trustee): `{coefficients, proofs,
 * transportKey}`; every proof of knowledge is checked (422 `bad_commitment_proof`).
 */
export const handler = httpHandler('POST /elections/{id}/ceremony/commitments', async (req) => {
  const { election, index } = await trusteeRequest(req);
  const r = await ceremonies.publishCommitment(election, index, req.body);
  return { status: 200, body: { trustee: index, ...r } };
});
