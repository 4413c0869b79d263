import { loadSettings } from '../../shared/settings/load';
import { RollStore } from '../../shared/roll/roll-store';
import type { HttpRequest } from './http';
import { redis } from './redis';

/** The voter-roll store every function uses (one per Lambda container). */
export const rolls = new RollStore(redis());

const settings = loadSettings();
const ORIGIN = /^https?:\/\/[A-Za-z0-9.:[\]-]+$/;

/**
 * The web app's origin for voting links: `WEB_ORIGIN` when set (a deployment knows its
 * public address); else the origin the admin's browser called from (the web app
 * proxies the API on its own origin, so that is where voters must go too); else the
 * local default of `npm start`.
 */
export function webOrigin(req: HttpRequest): string {
  if (settings.WEB_ORIGIN) return settings.WEB_ORIGIN.replace(/\/+$/, '');
  const origin = req.headers['origin'];
  if (origin && ORIGIN.test(origin)) return origin;
  return `http://127.0.0.1:${settings.WEB_PORT}`;
}
