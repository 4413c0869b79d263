import { userSessionsHandler } from './lib/user-sessions';

/** `POST /users/{id}/enable` (admin): Re-enables a disabled user; tokens from before the disable stay revoked. */
export const handler = userSessionsHandler('POST /users/{id}/enable', 'enable');
