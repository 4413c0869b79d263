import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type Election, type Results, type Session } from '../api';
import { downloadFile } from '../download';
import { ErrorBox, StatusBadge, useElections } from '../common';
import type { Realtime } from '../realtime';
import type { DecryptionState } from '../secret';
import {
  type CeremonyView,
  type ReceivedCheck,
  type ShareOutcome,
  type TrusteeKeys,
  ceremonyPass,
  ceremonyView,
  createTrusteeKeys,
  forgetTrusteeKeys,
  importTrusteeKeys,
  loadTrusteeKeys,
  myTrusteeIndex,
  shareSubmitted,
  submitDecryptionShare,
  trusteeKeyFile,
} from '../trustee';

/** How often the page looks at the ceremony again while it runs (the CLI polls every 0.5 s). */
const POLL_MS = 1500;

/**
 * The trustee's page: the secret elections this user is a trustee of, each with its key
 * ceremony; the trustee's part of the ceremony run here (keys made and kept in this
 * browser, exportable to the CLI's key file); after close, the decryption share.
 */
export function TrusteeView({ session }: { session: Session; rt: Realtime | undefined }) {
  const { elections, error, reload, update } = useElections(session.token);
  const [selected, setSelected] = useState<string | null>(null);
  const mine = elections?.filter((e) => e.ballot === 'secret' && myTrusteeIndex(session, e) !== null) ?? null;
  const election = mine?.find((e) => e.id === selected);
  if (election) {
    return (
      <TrusteeElection
        session={session}
        election={election}
        onBack={() => setSelected(null)}
        onUpdate={update}
      />
    );
  }
  return (
    <section aria-labelledby="trustee-h">
      <h2 id="trustee-h">Your elections as a trustee</h2>
      <p className="muted">
        For each secret-ballot election you are a trustee of, take part in its key ceremony here (your keys
        are made and kept in this browser) and, once it closes, decrypt your share of the tally.
      </p>
      <ErrorBox error={error} onRetry={reload} />
      {mine === null ? (
        <p className="muted">Loading…</p>
      ) : mine.length === 0 ? (
        <p className="muted">You are not a trustee of any election.</p>
      ) : (
        <ul className="cards">
          {mine.map((e) => (
            <li key={e.id}>
              <button type="button" className="card" onClick={() => setSelected(e.id)}>
                <span className="card-title">{e.title}</span>
                <StatusBadge status={e.status} />
                <span className="muted">
                  ceremony {e.ceremony}; you are trustee {myTrusteeIndex(session, e)} of {e.trustees?.length},{' '}
                  {e.threshold} needed to decrypt
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function TrusteeElection({
  session,
  election,
  onBack,
  onUpdate,
}: {
  session: Session;
  election: Election;
  onBack: () => void;
  onUpdate: (e: Election) => void;
}) {
  const me = myTrusteeIndex(session, election)!;
  const [keys, setKeys] = useState<TrusteeKeys | null>(null);
  const [keyError, setKeyError] = useState<unknown>(null);
  const [view, setView] = useState<CeremonyView | null>(null);
  const [checked, setChecked] = useState<ReceivedCheck | null>(null);
  const [left, setLeft] = useState('');
  const [log, setLog] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [running, setRunning] = useState(false);

  useEffect(() => {
    try {
      const k = loadTrusteeKeys(session, election);
      setKeys(k);
      // With keys here, taking part resumes where it stands (every step is idempotent).
      setRunning(k !== null);
    } catch (e) {
      setKeyError(new Error(`The keys kept in this browser cannot be used: ${(e as Error).message}.`));
    }
  }, [session, election]);

  const finished = view?.state === 'done' || view?.state === 'failed';
  // While the ceremony runs: with keys, one pass of the shared trustee client at a time
  // (the same steps as `npm run trustee -- ceremony`); without, only its public state.
  const busy = useRef(false);
  const tick = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      if (keys && running) {
        const p = await ceremonyPass(session, election, keys);
        setView(p.view);
        setLeft(p.left);
        if (p.checked) setChecked(p.checked);
        if (p.did.length) setLog((l) => [...l, ...p.did]);
        if (!p.left) {
          setRunning(false);
          setView(await ceremonyView(session, election.id));
        }
      } else {
        setView(await ceremonyView(session, election.id));
      }
      setError(null);
    } catch (e) {
      setError(e);
      setRunning(false);
    } finally {
      busy.current = false;
    }
  }, [keys, running, session, election]);
  useEffect(() => {
    void tick();
    if (finished && !running) return;
    const t = setInterval(() => void tick(), POLL_MS);
    return () => clearInterval(t);
  }, [tick, finished, running]);
  // The election's own fields (ceremony state, joint key, status) follow the ceremony.
  useEffect(() => {
    if (view && view.state !== election.ceremony)
      api.election(session.token, election.id).then(onUpdate, () => {});
  }, [view, election, session, onUpdate]);

  const mineInView = view?.trustees.find((t) => t.index === me);
  return (
    <section aria-labelledby="trustee-election-h">
      <button type="button" className="link" onClick={onBack}>
        ← All your elections
      </button>
      <h2 id="trustee-election-h">
        {election.title} <StatusBadge status={election.status} /> <span className="badge">secret ballot</span>
      </h2>
      <p className="muted">
        You are trustee {me} of {election.trustees?.length}; any {election.threshold} trustees together can
        decrypt the totals, fewer learn nothing. Your secret keys stay in this browser: the server only ever
        receives public commitments, encrypted shares and, after close, your decryption share with its proof.
      </p>

      <KeysPanel
        session={session}
        election={election}
        keys={keys}
        canCreate={!!view && view.state === 'commitments' && !mineInView?.committed}
        error={keyError}
        onKeys={(k) => {
          setKeys(k);
          setKeyError(null);
          setError(null);
          setRunning(true);
        }}
        onForget={() => {
          forgetTrusteeKeys(session, election);
          setKeys(null);
          setRunning(false);
        }}
      />

      <section className="panel" aria-labelledby="ceremony-h">
        <h3 id="ceremony-h">
          Key ceremony: <span data-testid="ceremony-state">{view?.state ?? '…'}</span>
        </h3>
        <ErrorBox error={error} onRetry={keys && !finished ? () => setRunning(true) : () => void tick()} />
        {view && <CeremonyTable view={view} me={me} />}
        {checked && (
          <p data-testid="share-checks">
            Shares dealt to you:{' '}
            {checked.good.length
              ? `verified from trustee(s) ${checked.good.join(', ')}`
              : 'none verified yet'}
            {checked.bad.length
              ? `; INVALID from trustee(s) ${checked.bad.join(', ')} (complaint filed)`
              : ''}
            {checked.missing.length ? `; not yet from ${checked.missing.join(', ')}` : ''}.
          </p>
        )}
        {!finished && keys && (
          <p role="status" data-testid="ceremony-next">
            {running ? `Taking part… next: ${left || 'checking'}` : 'Paused.'}
          </p>
        )}
        {!finished && !keys && mineInView?.committed && (
          <p className="error">
            Your commitments are published but this browser has no keys for them: import the key file you
            began with.
          </p>
        )}
        {view?.state === 'done' && (
          <p data-testid="ceremony-outcome">
            Done. Qualified trustees: {view.qualified?.join(', ')}.{' '}
            {view.qualified?.includes(me)
              ? 'You are one of them: keep your key file until the election is decrypted.'
              : 'You are not among them: your share is not needed.'}
            {election.jointKey && (
              <>
                {' '}
                Joint public key <code>{election.jointKey.slice(0, 16)}…</code>
              </>
            )}
          </p>
        )}
        {view?.state === 'failed' && (
          <p className="error" data-testid="ceremony-outcome">
            The ceremony failed: fewer than {view.threshold} trustees qualified. The administrator must create
            the election again.
          </p>
        )}
        {log.length > 0 && (
          <ol className="muted" data-testid="ceremony-log">
            {log.map((l, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: an append-only log
              <li key={i}>{l}</li>
            ))}
          </ol>
        )}
      </section>

      {view?.state === 'done' && view.qualified?.includes(me) && (
        <DecryptPanel session={session} election={election} keys={keys} />
      )}
    </section>
  );
}

function CeremonyTable({ view, me }: { view: CeremonyView; me: number }) {
  const yes = (b: boolean) => (b ? '✔' : '—');
  return (
    <>
      <table data-testid="ceremony-table">
        <thead>
          <tr>
            <th scope="col">Trustee</th>
            <th scope="col">Commitments</th>
            <th scope="col">Shares dealt</th>
            <th scope="col">Acknowledged</th>
          </tr>
        </thead>
        <tbody>
          {view.trustees.map((t) => (
            <tr key={t.index} className={t.index === me ? 'highlight' : ''}>
              <td>
                {t.index}
                {t.index === me ? ' (you)' : ''}
              </td>
              <td>{yes(t.committed)}</td>
              <td>{yes(t.dealt)}</td>
              <td>{yes(t.acknowledged)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {view.complaints.length > 0 && (
        <ul data-testid="complaints">
          {view.complaints.map((c) => (
            <li key={`${c.from}|${c.against}`}>
              Trustee {c.from} complained against trustee {c.against}:{' '}
              {c.answered
                ? c.upheld
                  ? 'the revealed share is invalid (upheld)'
                  : 'the revealed share is valid (dismissed)'
                : 'not answered yet (upheld unless answered before the ceremony finishes)'}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function KeysPanel({
  session,
  election,
  keys,
  canCreate,
  error,
  onKeys,
  onForget,
}: {
  session: Session;
  election: Election;
  keys: TrusteeKeys | null;
  canCreate: boolean;
  error: unknown;
  onKeys: (k: TrusteeKeys) => void;
  onForget: () => void;
}) {
  const [importError, setImportError] = useState<unknown>(null);
  const fileName = `trustee-${election.id}-${keys?.trustee ?? ''}.json`;
  const create = () => {
    try {
      const k = createTrusteeKeys(session, election);
      onKeys(k);
    } catch (e) {
      setImportError(e);
    }
  };
  const importFile = async (file: File | undefined) => {
    if (!file) return;
    try {
      onKeys(importTrusteeKeys(session, election, await file.text()));
      setImportError(null);
    } catch (e) {
      setImportError(e);
    }
  };
  return (
    <section className="panel" aria-labelledby="keys-h">
      <h3 id="keys-h">Your trustee keys</h3>
      <ErrorBox error={error} />
      {keys ? (
        <>
          <p data-testid="keys-state">
            This browser holds your keys for this election (trustee {keys.trustee}). Download a copy and keep
            it safe: without it you cannot decrypt if this browser's data is lost; with it you can continue on
            another device or with <code>npm run trustee -- … --key-file</code>.
          </p>
          <div className="actions">
            <button
              type="button"
              className="secondary"
              onClick={() => downloadFile(fileName, trusteeKeyFile(keys))}
            >
              Download key file
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                if (confirm('Remove your keys from this browser? Without a downloaded copy they are lost.'))
                  onForget();
              }}
            >
              Remove keys from this browser
            </button>
          </div>
        </>
      ) : (
        <>
          <p data-testid="keys-state">No keys for this election in this browser.</p>
          <div className="actions">
            {canCreate && (
              <button type="button" onClick={create}>
                Create my keys and take part
              </button>
            )}
            <label>
              Import a key file (from <code>npm run trustee</code> or another device)
              <input
                type="file"
                accept="application/json,.json"
                data-testid="import-trustee-keys"
                onChange={(ev) => void importFile(ev.target.files?.[0])}
              />
            </label>
          </div>
        </>
      )}
      <ErrorBox error={importError} />
    </section>
  );
}

function DecryptPanel({
  session,
  election,
  keys,
}: {
  session: Session;
  election: Election;
  keys: TrusteeKeys | null;
}) {
  const [results, setResults] = useState<(Results & { decryption?: DecryptionState }) | null>(null);
  const [outcome, setOutcome] = useState<ShareOutcome | null>(null);
  const [submitted, setSubmitted] = useState(() => shareSubmitted(session, election.id));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const reload = useCallback(
    () =>
      api.results(session.token, election.id).then(
        (r) => setResults(r),
        (e: unknown) => setError(e),
      ),
    [session, election.id],
  );
  useEffect(() => {
    void reload();
    const t = setInterval(() => void reload(), 3000);
    return () => clearInterval(t);
  }, [reload]);
  const decryption = results?.decryption;
  const submit = async () => {
    if (!keys) return;
    setBusy(true);
    setError(null);
    try {
      setOutcome(await submitDecryptionShare(session, election, keys));
      setSubmitted(true);
      await reload();
    } catch (e) {
      setError(e);
      setSubmitted(shareSubmitted(session, election.id));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-labelledby="decrypt-h">
      <h3 id="decrypt-h">Decryption</h3>
      {!results ? (
        <p className="muted">Loading…</p>
      ) : results.status !== 'closed' ? (
        <p data-testid="decrypt-state">
          The election is {results.status}: you decrypt your share of the tally after it closes.
        </p>
      ) : decryption?.state === 'published' ? (
        <p data-testid="decrypt-state">
          The totals are published ({decryption.message}):{' '}
          {election.options.map((o) => `${o.label} ${results.totals[o.id] ?? 0}`).join(', ')}.
        </p>
      ) : !results.final ? (
        <p data-testid="decrypt-state">
          Closed; {results.pending} ballot(s) still being checked. The tally becomes final once every ballot
          is counted.
        </p>
      ) : submitted ? (
        <p data-testid="decrypt-state">
          Your share is in. Waiting for the other trustees: {decryption?.shares ?? '?'} of{' '}
          {election.threshold} shares ({decryption?.message}).
        </p>
      ) : (
        <>
          <p data-testid="decrypt-state">
            The tally is final ({results.finalized} ballot(s) counted; {decryption?.shares ?? 0} of{' '}
            {election.threshold} decryption shares in). Compute your decryption share here: your secret share
            is combined in this browser and never sent.
          </p>
          {!keys && <p className="error">Import your key file first.</p>}
          <button type="button" onClick={submit} disabled={busy || !keys}>
            {busy ? 'Computing…' : 'Compute and submit my decryption share'}
          </button>
        </>
      )}
      {outcome && (
        <p role="status" data-testid="share-outcome">
          Your decryption share was accepted (its proofs verified).{' '}
          {outcome.totals
            ? 'It completed the threshold: the totals are published.'
            : `Waiting for ${outcome.waitingFor} more trustee(s).`}
        </p>
      )}
      <ErrorBox error={error} />
    </section>
  );
}
