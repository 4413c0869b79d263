import { userSessionsHandler } from './lib/user-sessions';

/** `POST /users/{id}/revoke-sessions` (admin): Ends every session of a user: tokens issued before now are refused (401) and their WebSocket subscriptions stop. */
export const handler = userSessionsHandler('POST /users/{id}/revoke-sessions', 'revoke');
