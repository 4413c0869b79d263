import { useEffect, useState } from 'react';
import { api, type Election, type Session, type VoteStatus } from '../api';
import { downloadFile } from '../download';
import { ErrorBox, ResultsChart, StatusBadge, useLiveResults } from '../common';
import { FocusHeading } from '../focus-heading';
import type { Realtime } from '../realtime';
import {
  type Ballot,
  type BallotOpening,
  type StoredSecretVote,
  cast,
  challenge,
  encrypt,
  hasVoterKey,
  importVoterKey,
  loadSecretVote,
  record,
  voterKeyFile,
} from '../secret';

/**
 * A secret election for a voter: choose, encrypt on this device, then either cast the
 * ballot or challenge it (Benaloh: the device must show it encrypted the choice, the
 * ballot is published as spoiled and a fresh one is made). After casting: the tracking
 * code, its status, and a search for it in the published record. Totals appear only
 * once the trustees have decrypted them.
 */
export function SecretBallot({
  session,
  rt,
  election,
  onBack,
  onUpdate,
}: {
  session: Session;
  rt: Realtime | undefined;
  election: Election;
  onBack: () => void;
  onUpdate: (e: Election) => void;
}) {
  const { results } = useLiveResults(session.token, rt, election.id, onUpdate, true);
  const [vote, setVote] = useState<StoredSecretVote | null>(() => loadSecretVote(session, election.id));
  const decryption = results?.decryption;
  const min = election.minSelections ?? 1;
  const max = election.maxSelections ?? 1;
  return (
    <section aria-labelledby="ballot-h">
      <button type="button" className="link" onClick={onBack}>
        ← All elections
      </button>
      <FocusHeading level={2} id="ballot-h">
        {election.title} <StatusBadge status={election.status} /> <span className="badge">secret ballot</span>
      </FocusHeading>
      <p className="muted">
        Your choice is encrypted on this device; nobody, not even the server, sees it. Only the count is
        decrypted, by {election.threshold} of the {election.trustees?.length} trustees, after the election
        closes.
      </p>
      {vote ? (
        <SecretReceipt session={session} election={election} vote={vote} />
      ) : election.status !== 'open' ? (
        <p className="muted">This election is {election.status}: voting is not possible.</p>
      ) : election.ceremony !== 'done' || !election.jointKey ? (
        <p className="muted">The trustees have not finished the key ceremony yet: voting is not possible.</p>
      ) : (
        <SecretForm session={session} election={election} min={min} max={max} onCast={setVote} />
      )}
      <VoterKeyPanel session={session} election={election} voted={vote !== null} />
      <h3>Turnout</h3>
      {results ? (
        <p>
          Ballots counted: <strong data-testid="turnout">{results.finalized}</strong>
          {results.pending > 0 && <span className="muted"> ({results.pending} being checked)</span>}
        </p>
      ) : (
        <p className="muted">Loading…</p>
      )}
      <h3>Results</h3>
      {decryption?.state === 'published' ? (
        <>
          <p className="muted" data-testid="decryption">
            Decrypted: {decryption.message}.
          </p>
          <ResultsChart election={election} results={results} />
        </>
      ) : (
        <p className="muted" data-testid="decryption">
          No totals yet: they exist only after the trustees decrypt the encrypted tally
          {decryption
            ? ` (${decryption.message}; ${decryption.shares} of ${decryption.threshold} shares)`
            : ''}
          .
        </p>
      )}
    </section>
  );
}

type Step =
  | { kind: 'choose' }
  | { kind: 'review'; ballot: Ballot; opening: BallotOpening; selections: number[]; key: string }
  | { kind: 'challenged'; revealed: number[]; tracker: string };

function SecretForm({
  session,
  election,
  min,
  max,
  onCast,
}: {
  session: Session;
  election: Election;
  min: number;
  max: number;
  onCast: (v: StoredSecretVote) => void;
}) {
  const [chosen, setChosen] = useState<string[]>([]);
  const [step, setStep] = useState<Step>({ kind: 'choose' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const label = (l: number) => election.options[l]?.label ?? String(l + 1);
  const toggle = (id: string) =>
    setChosen((c) =>
      max === 1 ? [id] : c.includes(id) ? c.filter((x) => x !== id) : c.length < max ? [...c, id] : c,
    );
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (step.kind === 'review') {
    return (
      <section className="panel confirm" aria-labelledby="confirm-h">
        <FocusHeading level={3} id="confirm-h">
          Your encrypted ballot
        </FocusHeading>
        <p>
          You chose <strong>{step.selections.flatMap((s, l) => (s ? [label(l)] : [])).join(', ')}</strong>.
          Tracking code: <code data-testid="draft-tracker">{step.ballot.tracker}</code>
        </p>
        <p className="muted">
          Cast it, or challenge it to check that this device encrypted your choice (the challenged ballot is
          published and never counted; you then make a new one).
        </p>
        <ErrorBox error={error} />
        <div className="actions">
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              run(async () => onCast(await cast(session, election, step.ballot, step.selections, step.key)))
            }
          >
            {busy ? 'Sending…' : 'Cast this ballot'}
          </button>
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() =>
              run(async () => {
                const revealed = await challenge(session, election, step.ballot, step.opening);
                setStep({ kind: 'challenged', revealed, tracker: step.ballot.tracker });
              })
            }
          >
            Challenge this ballot
          </button>
        </div>
      </section>
    );
  }
  return (
    <form
      className="panel"
      onSubmit={(ev) => {
        ev.preventDefault();
        run(async () => {
          const selections = election.options.map((o) => (chosen.includes(o.id) ? 1 : 0));
          const { ballot, opening } = await encrypt(session, election, selections);
          setStep({ kind: 'review', ballot, opening, selections, key: crypto.randomUUID() });
        });
      }}
    >
      {step.kind === 'challenged' && (
        <section className="panel" aria-labelledby="challenge-h" data-testid="challenge-result">
          <FocusHeading level={3} id="challenge-h">
            Challenge passed
          </FocusHeading>
          <p>
            Ballot <code>{step.tracker}</code> was opened on this device: its ciphertexts encrypt{' '}
            <strong>
              {step.revealed.flatMap((s, l) => (s ? [label(l)] : [])).join(', ') || 'no option'}
            </strong>
            , exactly your choice. It is published as spoiled and will not be counted. Make a fresh ballot
            below.
          </p>
        </section>
      )}
      <fieldset>
        <legend>
          {max === 1 ? 'Choose one option' : `Choose ${min === max ? min : `${min} to ${max}`} options`}
        </legend>
        {election.options.map((o) => (
          <label key={o.id} className="choice">
            <input
              type={max === 1 ? 'radio' : 'checkbox'}
              name="option"
              value={o.id}
              checked={chosen.includes(o.id)}
              onChange={() => toggle(o.id)}
            />
            {o.label}
          </label>
        ))}
      </fieldset>
      <ErrorBox error={error} />
      <button type="submit" disabled={busy || chosen.length < min || chosen.length > max}>
        Encrypt my ballot
      </button>
    </form>
  );
}

function SecretReceipt({
  session,
  election,
  vote,
}: {
  session: Session;
  election: Election;
  vote: StoredSecretVote;
}) {
  const [status, setStatus] = useState<VoteStatus | null>(null);
  const [found, setFound] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const current = status?.status ?? 'pending';
  useEffect(() => {
    if (current !== 'pending') return;
    let stop = false;
    const poll = () =>
      api.voteStatus(session.token, vote.voteId).then(
        (v) => !stop && setStatus(v),
        (e: unknown) => !stop && setError(e),
      );
    poll();
    const t = setInterval(poll, 2000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [current, session.token, vote.voteId]);
  const findInRecord = () =>
    record(session, election.id).then(
      (r) => {
        const i = r.ballots.findIndex((b) => b.tracker === vote.tracker);
        const b = r.ballots[i];
        setFound(
          b
            ? `Found: ballot ${i + 1} of ${r.ballots.length} in the record, ${b.state}.`
            : `Not in the record (yet): ${r.ballots.length} ballots published so far.`,
        );
        setError(null);
      },
      (e: unknown) => setError(e),
    );
  const chose = vote.selections.flatMap((s, l) => (s ? [election.options[l]?.label ?? ''] : [])).join(', ');
  return (
    <section className="panel" aria-labelledby="your-vote-h">
      <FocusHeading level={3} id="your-vote-h">
        Your ballot
      </FocusHeading>
      <p>
        You chose <strong>{chose}</strong> (only this device knows).
      </p>
      <p aria-live="polite">
        Status:{' '}
        <span className={`badge badge-${current}`} data-testid="vote-status">
          {current}
        </span>{' '}
        {current === 'rejected' && (
          <span>Your ballot was rejected{status?.reason ? `: ${status.reason}` : ''}.</span>
        )}
        {current === 'finalized' && <span>Your ballot is in the encrypted tally.</span>}
      </p>
      <ErrorBox error={error} />
      <p>Your tracking code (it identifies your encrypted ballot in the public record):</p>
      <p className="receipt">
        <code data-testid="tracker">{vote.tracker}</code>{' '}
        <button
          type="button"
          className="secondary"
          onClick={() => navigator.clipboard?.writeText(vote.tracker).catch(() => {})}
        >
          Copy
        </button>
      </p>
      <div className="actions">
        <button type="button" className="secondary" onClick={findInRecord}>
          Find my ballot in the record
        </button>
      </div>
      {found && (
        <p role="status" data-testid="record-found">
          {found}
        </p>
      )}
    </section>
  );
}

/**
 * The voter's signing key for this election as a file (the `npm run voter --key-file`
 * format): exported to vote from another device or tool with the same key (the server
 * binds the first key it sees to the voter), imported here from one.
 */
function VoterKeyPanel({
  session,
  election,
  voted,
}: {
  session: Session;
  election: Election;
  voted: boolean;
}) {
  const [message, setMessage] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [has, setHas] = useState(() => hasVoterKey(session, election.id));
  const download = async () => {
    setError(null);
    try {
      downloadFile(`voter-${election.id}.json`, await voterKeyFile(session, election.id));
      setHas(true);
      setMessage('Key file downloaded. Keep it secret: whoever has it can sign ballots as you.');
    } catch (e) {
      setError(e);
    }
  };
  const importFile = async (file: File | undefined) => {
    if (!file) return;
    setMessage('');
    setError(null);
    try {
      const publicKey = importVoterKey(session, election.id, await file.text());
      setHas(true);
      setMessage(`Key imported: this device now signs with public key ${publicKey}.`);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="panel" aria-labelledby="voter-key-h">
      <h3 id="voter-key-h">Your voter key</h3>
      <p className="muted">
        Your ballot is signed on this device with a key made here for this election.{' '}
        {has ? 'This device holds it.' : 'None yet: it is made when you encrypt your first ballot.'} To vote
        from another device (or with <code>npm run voter</code>), take the key file with you.
      </p>
      <div className="actions">
        <button type="button" className="secondary" onClick={() => void download()}>
          Download my voter key file
        </button>
        {!voted && (
          <label>
            Import a voter key file
            <input
              type="file"
              accept="application/json,.json"
              data-testid="import-voter-key"
              onChange={(ev) => void importFile(ev.target.files?.[0])}
            />
          </label>
        )}
      </div>
      {message && (
        <p role="status" data-testid="voter-key-state">
          {message}
        </p>
      )}
      <ErrorBox error={error} />
    </section>
  );
}
