import { httpHandler } from './lib/http';
import { changeCredential } from './lib/roll-credential-change';

/** `POST /elections/{id}/roll/{voterId}/reissue` (admin) → `200 {voterId, credential, link}`; the old credential and its tokens stop working. */
export const handler = httpHandler('POST /elections/{id}/roll/{voterId}/reissue', (req) =>
  changeCredential(req, 'reissue'),
);
