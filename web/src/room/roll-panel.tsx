import { useState } from 'react';
import type { Session } from '../api';
import { CredentialHandout } from './credential-handout';
import { RollList } from './roll-list';
import { RollImport } from './roll-import';
import type { RollImported } from './room-api';

/** An election's voter roll on the admin page: import, the one-time credential hand-out, the list. */
export function RollPanel({
  session,
  electionId,
  title,
  closed,
  voters,
}: {
  session: Session;
  electionId: string;
  title: string;
  closed: boolean;
  /** Voters on the roll (GET /elections/{id}): the list is read only when there are some. */
  voters: number;
}) {
  const [imported, setImported] = useState<RollImported | null>(null);
  const [version, setVersion] = useState(0);
  return (
    <div className="roll-panel">
      {imported ? (
        <CredentialHandout title={title} voters={imported.voters} onDone={() => setImported(null)} />
      ) : (
        !closed && (
          <RollImport
            session={session}
            electionId={electionId}
            onImported={(r) => {
              setImported(r);
              setVersion((v) => v + 1);
            }}
          />
        )
      )}
      {voters > 0 || version > 0 ? (
        <RollList session={session} electionId={electionId} title={title} version={version} />
      ) : (
        <p className="muted">No voter roll imported yet.</p>
      )}
    </div>
  );
}
