import { useEffect, useState } from 'react';
import type { Session } from '../api';
import { ErrorBox } from '../common';
import { roomApi, type UserSummary } from './room-api';

/**
 * Picks existing users by searching `GET /users` (username), so an administrator never
 * types internal user ids. Calls `onChange` with the chosen users; disabled accounts are
 * shown but cannot be picked.
 */
export function UserPicker({
  session,
  label,
  value,
  onChange,
  userRole = 'voter',
}: {
  session: Session;
  label: string;
  value: readonly UserSummary[];
  onChange: (users: UserSummary[]) => void;
  /** Only users of this role are offered. */
  userRole?: string;
}) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<UserSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!q.trim()) {
      setFound(null);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      roomApi.users(session.token, q.trim()).then(
        (r) => {
          if (!live) return;
          setFound(r.users.filter((u) => u.role === userRole));
          setError(null);
        },
        (e: unknown) => live && setError(e),
      );
    }, 200);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [q, session.token, userRole]);
  const chosen = new Set(value.map((u) => u.id));
  return (
    <fieldset className="user-picker">
      <legend>{label}</legend>
      {value.length > 0 && (
        <ul className="chips" aria-label="Chosen users">
          {value.map((u) => (
            <li key={u.id}>
              {u.username}{' '}
              <button
                type="button"
                className="link"
                aria-label={`Remove ${u.username}`}
                onClick={() => onChange(value.filter((x) => x.id !== u.id))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <label>
        Find users by username
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} autoComplete="off" />
      </label>
      <ErrorBox error={error} />
      {found && found.length === 0 && (
        <p className="muted">
          No {userRole} matches “{q.trim()}”.
        </p>
      )}
      {found && found.length > 0 && (
        <ul className="user-results" aria-label="Matching users">
          {found.map((u) => (
            <li key={u.id}>
              <span>
                {u.username}
                {u.disabled ? <span className="muted"> (disabled)</span> : null}
              </span>
              <button
                type="button"
                className="secondary"
                disabled={u.disabled || chosen.has(u.id)}
                onClick={() => onChange([...value, u])}
                // The visible word is part of the name (axe label-content-name-mismatch).
                aria-label={`${chosen.has(u.id) ? 'Added' : 'Add'} ${u.username}`}
              >
                {chosen.has(u.id) ? 'Added' : 'Add'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
