import { useState } from 'react';
import type { Election, Session } from '../api';
import { ErrorBox, usePolling } from '../common';
import { joinLink } from './credential-files';
import { QrCode } from './qr';
import { RollPanel } from './roll-panel';
import { type RoomElection, roomApi } from './room-api';

/** How often the admin page reads the joined count of a code poll (it has no push). */
const JOINED_POLL_MS = 3000;

/**
 * The issue-17 part of an election's admin panel: for a code poll its join code, link,
 * QR code and how many joined; for a roll election its roll (import, credentials, list);
 * for both the link to the presenter view.
 */
export function RoomControl({ session, election }: { session: Session; election: Election }) {
  const [detail, setDetail] = useState<RoomElection | null>(null);
  const [error, setError] = useState<unknown>(null);
  usePolling(
    `${session.token}|${election.id}`,
    JOINED_POLL_MS,
    () => roomApi.election(session.token, election.id),
    setDetail,
    setError,
  );
  const e = detail ?? (election as RoomElection);
  const present = `#/present/${encodeURIComponent(election.id)}`;
  return (
    <div className="room-control">
      <p className="muted">
        {e.access === 'code' ? 'Join code poll' : 'Voter roll'}
        {(e.maxChoices ?? 1) > 1 ? ` · choose up to ${e.maxChoices}` : ' · one choice'}
        {' · '}
        <a href={present} data-testid="presenter-link">
          Presenter view
        </a>
      </p>
      <ErrorBox error={error} />
      {e.access === 'code' && e.joinCode && (
        <div className="join-info">
          <QrCode
            text={joinLink(location.origin, e.joinCode)}
            label={`QR code of the join link, code ${e.joinCode}`}
            size={120}
          />
          <div>
            <p>
              Join code:{' '}
              <strong className="join-code" data-testid="join-code">
                {e.joinCode}
              </strong>
            </p>
            <p>
              Join link:{' '}
              <a href={joinLink(location.origin, e.joinCode)}>{joinLink(location.origin, e.joinCode)}</a>
            </p>
            <p>
              Joined: <strong data-testid="joined">{e.joined ?? 0}</strong>
            </p>
          </div>
        </div>
      )}
      {e.access !== 'code' && (
        <>
          {e.roll && (
            <p>
              Roll: <strong data-testid="roll-voters">{e.roll.voters}</strong> voters,{' '}
              <strong>{e.roll.credentialsActive}</strong> active credentials
            </p>
          )}
          <RollPanel
            session={session}
            electionId={election.id}
            title={election.title}
            closed={election.status === 'closed'}
            voters={e.roll?.voters ?? 0}
          />
        </>
      )}
    </div>
  );
}
