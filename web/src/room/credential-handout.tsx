import { useState } from 'react';
import { downloadFile } from '../download';
import { credentialsCsv, mailMergeCsv } from './credential-files';
import { QrCode } from './qr';
import type { ImportedVoter } from './room-api';

const CSV = 'text/csv;charset=utf-8';

/**
 * The credentials of an import, offered once: they are stored only as hashes, so after
 * this screen is left they can only be reissued. Three ways to hand them out: a CSV of
 * everything, a mail-merge CSV (email, name, link), and a printable sheet with one card
 * per voter (name, voting link and its QR code).
 */
export function CredentialHandout({
  title,
  voters,
  onDone,
}: {
  title: string;
  voters: readonly ImportedVoter[];
  onDone: () => void;
}) {
  const withLinks = voters.filter((v) => v.link);
  const [sheet, setSheet] = useState(false);
  const base = title.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'election';
  return (
    <section className="panel handout" aria-labelledby="handout-h">
      <h4 id="handout-h">Voting credentials: shown once</h4>
      <p role="status">
        {withLinks.length} voting link{withLinks.length === 1 ? '' : 's'} made. Save or print them now: the
        server keeps only a hash, so they cannot be shown again (a lost one can be reissued).
      </p>
      <div className="actions">
        <button
          type="button"
          onClick={() => downloadFile(`${base}-credentials.csv`, credentialsCsv(voters), CSV)}
        >
          Download credentials (CSV)
        </button>
        <button
          type="button"
          onClick={() => downloadFile(`${base}-mail-merge.csv`, mailMergeCsv(voters), CSV)}
        >
          Download mail-merge file (CSV)
        </button>
        <button type="button" onClick={() => setSheet(!sheet)} aria-expanded={sheet}>
          {sheet ? 'Hide printable sheet' : 'Show printable sheet'}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Done: I saved them
        </button>
      </div>
      {sheet && <CredentialSheet title={title} voters={withLinks} />}
    </section>
  );
}

/** One card per voter; print CSS (room.css) prints only the cards, several to a page. */
export function CredentialSheet({ title, voters }: { title: string; voters: readonly ImportedVoter[] }) {
  return (
    <div className="credential-sheet" data-testid="credential-sheet">
      <div className="actions no-print">
        <button type="button" onClick={() => window.print()}>
          Print the sheet
        </button>
      </div>
      <ul className="sheet-cards">
        {voters.map((v) => {
          const who = v.name ?? v.email ?? v.externalId ?? v.username ?? v.voterId;
          return (
            <li key={v.voterId} className="sheet-card" data-voter={v.voterId}>
              <p className="sheet-election">{title}</p>
              <p className="sheet-name">{who}</p>
              <QrCode text={v.link!} label={`QR code of the voting link for ${who}`} size={140} />
              <p className="sheet-how">Scan the code or open the link to vote (once):</p>
              <p className="sheet-link">
                <a href={v.link}>{v.link}</a>
              </p>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
