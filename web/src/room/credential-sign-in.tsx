import { useEffect, useRef, useState } from 'react';
import { ApiError, type Session } from '../api';
import { ErrorBox } from '../common';
import { boundSession, replaceHash } from './bound-session';
import { roomApi } from './room-api';

/**
 * `#/c/<credential>`: signs in with the credential of a voting link (POST
 * /auth/credential) and goes to that election's ballot. The credential leaves the address
 * bar and history as soon as the server has answered for it (kept in memory for a retry
 * after a network error or 503 only).
 */
export function CredentialSignIn({
  credential,
  onSignIn,
}: {
  credential: string | undefined;
  onSignIn: (s: Session) => void;
}) {
  const [kept] = useState(credential);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const started = useRef(false);
  const attempt = async () => {
    if (!kept) return;
    setBusy(true);
    setError(null);
    try {
      const r = await roomApi.signInWithCredential(kept);
      onSignIn(boundSession(r, 'voter'));
      replaceHash('#/vote');
    } catch (e) {
      setError(e);
      if (!(e instanceof ApiError && e.retryable)) replaceHash('#/c');
    } finally {
      setBusy(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: one automatic attempt per link
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void attempt();
  }, []);
  const invalid = error instanceof ApiError && error.code === 'invalid_credentials';
  return (
    <section className="panel signin" aria-labelledby="cred-h">
      <h2 id="cred-h">Voting link</h2>
      {!kept && !error && <p>This address has no voting link in it. Open the link you were given again.</p>}
      {busy && <p aria-live="polite">Signing you in…</p>}
      {invalid ? (
        <div className="error" role="alert">
          This voting link does not work: it may have been replaced by a new one, revoked, or mistyped. Ask
          the organiser for a new link.
        </div>
      ) : (
        <ErrorBox
          error={error}
          onRetry={error instanceof ApiError && error.retryable && kept ? attempt : undefined}
        />
      )}
    </section>
  );
}
