import { httpHandler } from './lib/http';
import { changeCredential } from './lib/roll-credential-change';

/** `POST /elections/{id}/roll/{voterId}/revoke` (admin) → `200 {voterId, credential: "revoked"}`; the credential and its tokens stop working. */
export const handler = httpHandler('POST /elections/{id}/roll/{voterId}/revoke', (req) =>
  changeCredential(req, 'revoke'),
);
