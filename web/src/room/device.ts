/**
 * The device secret of code polls (POST /join): made once per browser from 32 random
 * bytes and kept in localStorage, so the same phone joining the same code again gets the
 * same anonymous identity (one vote per device) instead of a new one.
 */
const DEVICE_KEY = 'qv:device';

/** base64url without padding (the form the contract asks for: 22..64 characters). */
export function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Where the secret is kept: localStorage in the browser (an interface, for the unit tests). */
export interface SecretStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** This browser's device secret, made on first use. */
export function deviceSecret(
  storage: SecretStore = (globalThis as unknown as { localStorage: SecretStore }).localStorage,
): string {
  const kept = storage.getItem(DEVICE_KEY);
  if (kept && /^[A-Za-z0-9_-]{22,64}$/.test(kept)) return kept;
  const made = base64url(crypto.getRandomValues(new Uint8Array(32)));
  storage.setItem(DEVICE_KEY, made);
  return made;
}
