import { useCallback, useEffect, useState } from 'react';
import type { Session } from '../api';
import { ErrorBox } from '../common';
import { CredentialSheet } from './credential-handout';
import { type ImportedVoter, type RollEntry, roomApi } from './room-api';

/**
 * The roll of one election, searchable, a page at a time, with each voter's credential
 * state and whether they voted. Revoke stops a credential (and its tokens); reissue makes
 * a new one (the old stops) and shows it once, like an import.
 */
export function RollList({
  session,
  electionId,
  title,
  version,
}: {
  session: Session;
  electionId: string;
  title: string;
  /** Bumped by the parent after an import, to read the roll again. */
  version: number;
}) {
  const [q, setQ] = useState('');
  const [pages, setPages] = useState<{ voters: RollEntry[]; next?: string | undefined } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reissued, setReissued] = useState<ImportedVoter | null>(null);
  const [busy, setBusy] = useState('');
  const load = useCallback(
    (cursor?: string) => {
      roomApi.roll(session.token, electionId, q.trim(), cursor).then(
        (r) => {
          setPages((p) => ({ voters: [...(cursor && p ? p.voters : []), ...r.voters], next: r.nextCursor }));
          setError(null);
        },
        (e: unknown) => setError(e),
      );
    },
    [session.token, electionId, q],
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: version is the signal to read again
  useEffect(() => {
    // Debounced: a search while typing reads once the typing pauses.
    const t = setTimeout(() => load(), 250);
    return () => clearTimeout(t);
  }, [load, version]);
  const act = async (v: RollEntry, what: 'revoke' | 'reissue') => {
    setBusy(v.voterId);
    setError(null);
    try {
      if (what === 'reissue') {
        const r = await roomApi.reissue(session.token, electionId, v.voterId);
        setReissued({ ...v, credential: r.credential, link: r.link });
      } else {
        await roomApi.revoke(session.token, electionId, v.voterId);
      }
      load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy('');
    }
  };
  return (
    <section className="panel roll-list" aria-labelledby="roll-list-h">
      <h4 id="roll-list-h">Voter roll</h4>
      <label>
        Search the roll (name, email, id)
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
      </label>
      <ErrorBox error={error} onRetry={() => load()} />
      {reissued && (
        <div className="reissued" role="status">
          <p>
            New voting link for <strong>{reissued.name ?? reissued.voterId}</strong> (shown once; the old one
            no longer works):
          </p>
          <CredentialSheet title={title} voters={[reissued]} />
          <button type="button" className="secondary" onClick={() => setReissued(null)}>
            Done
          </button>
        </div>
      )}
      {pages && pages.voters.length === 0 && (
        <p className="muted">No voters on the roll{q ? ' match' : ''}.</p>
      )}
      {pages && pages.voters.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email / id</th>
                <th scope="col">Weight</th>
                <th scope="col">Group</th>
                <th scope="col">Credential</th>
                <th scope="col">Voted</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {pages.voters.map((v) => (
                <tr key={v.voterId} data-testid={`roll-${v.voterId}`}>
                  <td>{v.name ?? v.username ?? '—'}</td>
                  <td>{v.email ?? v.externalId ?? v.username ?? v.voterId}</td>
                  <td>{v.weight}</td>
                  <td>{v.group ?? ''}</td>
                  <td>
                    <span className={`badge badge-cred-${v.credential}`}>{v.credential}</span>
                  </td>
                  <td>{v.voted ? 'yes' : 'no'}</td>
                  <td className="row-actions">
                    {v.credential !== 'none' && (
                      <button
                        type="button"
                        className="secondary"
                        disabled={busy === v.voterId}
                        onClick={() => act(v, 'reissue')}
                        aria-label={`Reissue the credential of ${v.name ?? v.voterId}`}
                      >
                        Reissue
                      </button>
                    )}
                    {v.credential === 'active' && (
                      <button
                        type="button"
                        className="danger"
                        disabled={busy === v.voterId}
                        onClick={() => act(v, 'revoke')}
                        aria-label={`Revoke the credential of ${v.name ?? v.voterId}`}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages?.next && (
        <button type="button" className="secondary" onClick={() => load(pages.next)}>
          Show more
        </button>
      )}
    </section>
  );
}
