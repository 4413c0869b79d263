import { httpHandler } from './lib/http';

/** `GET /ping`: liveness of the functions alone (no Redis); the HTTP benchmark's trivial handler. */
export const handler = httpHandler('GET /ping', async () => ({ status: 200, body: { pong: true } }));
