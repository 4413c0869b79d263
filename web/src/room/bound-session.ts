import type { Session } from '../api';
import type { BoundToken } from './room-api';

/** The session of a voter who signed in with a voting link or a join code. */
export function boundSession(r: BoundToken, fallbackName: string): Session {
  return {
    token: r.token,
    role: r.role,
    sub: r.sub,
    username: r.username || fallbackName,
    expiresAt: Date.now() + r.expiresIn * 1000,
    electionId: r.electionId,
  };
}

/**
 * Replaces the address (and its history entry) with `hash`: a voting link's credential
 * must not stay in the address bar, the history or a bookmark once it has been used.
 * replaceState fires no hashchange, so one is sent for the app's router.
 */
export function replaceHash(hash: string): void {
  history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}
