import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { Session } from '../api';
import { ErrorBox } from '../common';
import { boundSession, replaceHash } from './bound-session';
import { deviceSecret } from './device';
import { roomApi } from './room-api';

/**
 * `#/join/<code>` (from a QR code or link) or `#/join` (type the code): joins a code poll
 * with this browser's device secret (POST /join) and goes to its ballot. Joining again
 * from the same browser gives the same anonymous identity, so one device votes once.
 */
export function JoinPage({ code, onSignIn }: { code: string | undefined; onSignIn: (s: Session) => void }) {
  const [typed, setTyped] = useState(code ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const started = useRef(false);
  const join = async (c: string) => {
    const clean = c.trim();
    if (!clean) return setError(new Error('Type the code shown by the organiser.'));
    setBusy(true);
    setError(null);
    try {
      const r = await roomApi.join(clean, deviceSecret());
      onSignIn(boundSession(r, 'participant'));
      replaceHash('#/vote');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: a join link joins once, by itself
  useEffect(() => {
    if (!code || started.current) return;
    started.current = true;
    void join(code);
  }, []);
  const submit = (ev: FormEvent) => {
    ev.preventDefault();
    void join(typed);
  };
  return (
    <form className="panel signin" onSubmit={submit} aria-labelledby="join-h">
      <h2 id="join-h">Join a poll</h2>
      <p className="muted">No account needed: type the code shown on the screen, or scan its QR code.</p>
      <label>
        Poll code
        <input
          name="code"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          autoComplete="off"
          autoCapitalize="off"
          spellCheck={false}
          required
        />
      </label>
      <ErrorBox error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Joining…' : 'Join'}
      </button>
    </form>
  );
}
