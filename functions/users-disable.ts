import { userSessionsHandler } from './lib/user-sessions';

/** `POST /users/{id}/disable` (admin): Disables a user: no login (403 user_disabled), every token refused (401), subscriptions stopped. */
export const handler = userSessionsHandler('POST /users/{id}/disable', 'disable');
