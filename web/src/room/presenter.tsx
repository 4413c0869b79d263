import { useState } from 'react';
import type { Session } from '../api';
import { encryptedOnly, ErrorBox, useLiveResults, usePolling } from '../common';
import type { Realtime } from '../realtime';
import { joinLink } from './credential-files';
import { QrCode } from './qr';
import { type RoomElection, roomApi } from './room-api';

/** How often the joined count and the election's state are read (no push carries them). */
const DETAIL_POLL_MS = 2000;

/**
 * `#/present/<id>`: the results for a projector, full screen and without controls. The
 * totals come from the live results push (WebSocket `election:<id>`), so the screen
 * follows each finalized vote as it is pushed; a code poll shows its code, link and QR
 * code, and the turnout.
 */
export function PresenterView({
  session,
  rt,
  electionId,
}: {
  session: Session;
  rt: Realtime | undefined;
  electionId: string;
}) {
  const [election, setElection] = useState<RoomElection | null>(null);
  const [error, setError] = useState<unknown>(null);
  usePolling(
    `${session.token}|${electionId}`,
    DETAIL_POLL_MS,
    () => roomApi.election(session.token, electionId),
    setElection,
    setError,
  );
  const { results } = useLiveResults(
    session.token,
    rt,
    electionId,
    (e) => setElection((x) => (x ? { ...x, ...e } : x)),
    election?.ballot === 'secret',
  );
  if (!election) {
    return (
      <div className="present">
        {error ? <ErrorBox error={error} /> : <p className="present-wait">Loading…</p>}
      </div>
    );
  }
  const ballots = results ? ((results as { ballots?: number }).ballots ?? results.finalized) : 0;
  const selections = results ? Object.values(results.totals).reduce((a, b) => a + b, 0) : 0;
  const link = election.joinCode ? joinLink(location.origin, election.joinCode) : null;
  const eligible = election.access === 'code' ? election.joined : election.roll?.voters || undefined;
  const hidden = !results || results.hidden || encryptedOnly(election, results);
  return (
    <div className="present" data-testid="presenter">
      <header className="present-head">
        <h1>{election.title}</h1>
        <p className="present-state">
          {election.status === 'open'
            ? 'Voting is open'
            : election.status === 'closed'
              ? 'Voting closed'
              : 'Not open yet'}
          {results?.final ? ' · final result' : ''}
          {(election.maxChoices ?? 1) > 1 ? ` · choose up to ${election.maxChoices}` : ''}
        </p>
      </header>
      <div className={link ? 'present-body with-join' : 'present-body'}>
        <section className="present-results" aria-label="Results">
          {hidden ? (
            <p className="present-wait">
              {results?.hidden
                ? 'Results are shown when voting closes.'
                : 'Results appear here once counted.'}
            </p>
          ) : (
            <ul className="present-bars">
              {election.options.map((o) => {
                const n = results.totals[o.id] ?? 0;
                // Approval ballots: the share of ballots that chose the option.
                const base = (election.maxChoices ?? 1) > 1 ? ballots : selections;
                const pct = base ? Math.round((n / base) * 100) : 0;
                return (
                  <li key={o.id}>
                    <span className="present-label">{o.label}</span>
                    <span className="present-track" aria-hidden="true">
                      <span className="present-fill" style={{ width: `${pct}%` }} />
                    </span>
                    <span className="present-value">
                      <strong data-testid={`present-count-${o.id}`}>{n}</strong> <span>{pct}%</span>
                    </span>
                  </li>
                );
              })}
            </ul>
          )}
        </section>
        {link && election.joinCode && (
          <aside className="present-join" aria-label="How to join">
            <QrCode text={link} label={`QR code to join: ${link}`} />
            <p className="present-code-label">Code</p>
            <p className="present-code" data-testid="present-code">
              {election.joinCode}
            </p>
            <p className="present-url">{`${location.host}/#/join`}</p>
          </aside>
        )}
      </div>
      <footer className="present-foot" aria-live="polite">
        <span>
          Ballots: <strong data-testid="present-ballots">{ballots}</strong>
          {eligible ? (
            <>
              {' '}
              of <strong data-testid="present-eligible">{eligible}</strong>{' '}
              {election.access === 'code' ? 'joined' : 'on the roll'} (
              {Math.round((ballots / eligible) * 100)}%)
            </>
          ) : null}
        </span>
        {results && results.pending > 0 && <span>Being counted: {results.pending}</span>}
      </footer>
    </div>
  );
}
