import { useEffect, useState } from 'react';
import { ApiError, api, type Election, type Session, type VoteStatus } from '../api';
import { ErrorBox, ResultsChart, StatusBadge, useElections, useLiveResults } from '../common';
import { FocusHeading } from '../focus-heading';
import { type Realtime, useTopic } from '../realtime';
import { ApprovalChoices, choicesValid } from '../room/approval-choices';
import { type RoomElection, roomApi } from '../room/room-api';
import { loadSecretVote } from '../secret';
import { SecretBallot } from './SecretBallot';

interface StoredVote {
  voteId: string;
  receipt: string;
  optionId: string;
  /** The options of a "choose up to m" ballot (then `optionId` is the first of them). */
  optionIds?: string[];
  /** The receipt's secret nonce (kept on this device only): proves the entry is this ballot. */
  nonce?: string;
}
const storeKey = (s: Session, electionId: string) => `qv:vote:${s.sub}:${electionId}`;
function loadVote(s: Session, electionId: string): StoredVote | null {
  try {
    return JSON.parse(localStorage.getItem(storeKey(s, electionId)) ?? 'null') as StoredVote | null;
  } catch {
    return null;
  }
}

export function VoterView({ session, rt }: { session: Session; rt: Realtime | undefined }) {
  return session.electionId ? (
    <BoundVoterView session={session} rt={rt} electionId={session.electionId} />
  ) : (
    <ElectionsVoterView session={session} rt={rt} />
  );
}

/**
 * A voter signed in with a voting link or a join code: the token is valid for one
 * election only, so the page is that election's ballot, with no list to go back to.
 */
function BoundVoterView({
  session,
  rt,
  electionId,
}: {
  session: Session;
  rt: Realtime | undefined;
  electionId: string;
}) {
  const [election, setElection] = useState<Election | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = () =>
    api.election(session.token, electionId).then(
      (e) => {
        setElection(e);
        setError(null);
      },
      (e: unknown) => setError(e),
    );
  // biome-ignore lint/correctness/useExhaustiveDependencies: read once per election and token
  useEffect(() => {
    load();
  }, [session.token, electionId]);
  const update = (e: Election) => setElection((x) => (x ? { ...x, ...e } : e));
  if (!election) {
    return error ? <ErrorBox error={error} onRetry={load} /> : <p className="muted">Loading your ballot…</p>;
  }
  return election.ballot === 'secret' ? (
    <SecretBallot session={session} rt={rt} election={election} onBack={load} onUpdate={update} />
  ) : (
    <ElectionBallot session={session} rt={rt} election={election} onUpdate={update} />
  );
}

function ElectionsVoterView({ session, rt }: { session: Session; rt: Realtime | undefined }) {
  const { elections, error, reload, update } = useElections(session.token);
  const [selected, setSelected] = useState<string | null>(null);
  const election = elections?.find((e) => e.id === selected) ?? null;
  if (election?.ballot === 'secret') {
    return (
      <SecretBallot
        session={session}
        rt={rt}
        election={election}
        onBack={() => setSelected(null)}
        onUpdate={update}
      />
    );
  }
  if (election) {
    return (
      <ElectionBallot
        session={session}
        rt={rt}
        election={election}
        onBack={() => setSelected(null)}
        onUpdate={update}
      />
    );
  }
  const open = elections?.filter((e) => e.status === 'open') ?? [];
  const other = elections?.filter((e) => e.status === 'closed') ?? [];
  return (
    <section aria-labelledby="voter-h">
      <FocusHeading level={2} id="voter-h">
        Elections
      </FocusHeading>
      <ErrorBox error={error} onRetry={reload} />
      {elections === null && !error && <p className="muted">Loading…</p>}
      <h3>Open for voting</h3>
      {elections && open.length === 0 && <p className="muted">No election is open right now.</p>}
      <ul className="cards">
        {open.map((e) => (
          <li key={e.id}>
            <button type="button" className="card" onClick={() => setSelected(e.id)}>
              <span className="card-title">{e.title}</span>
              <StatusBadge status={e.status} />
              <span className="muted">
                {loadVote(session, e.id) || loadSecretVote(session, e.id)
                  ? 'You voted — see status and results'
                  : `${e.options.length} options — vote now`}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {other.length > 0 && (
        <>
          <h3>Closed</h3>
          <ul className="cards">
            {other.map((e) => (
              <li key={e.id}>
                <button type="button" className="card" onClick={() => setSelected(e.id)}>
                  <span className="card-title">{e.title}</span>
                  <StatusBadge status={e.status} />
                  <span className="muted">See the results</span>
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      <button type="button" className="secondary" onClick={reload}>
        Refresh
      </button>
    </section>
  );
}

function ElectionBallot({
  session,
  rt,
  election,
  onBack,
  onUpdate,
}: {
  session: Session;
  rt: Realtime | undefined;
  election: Election;
  /** Absent for a voter bound to this one election. */
  onBack?: () => void;
  onUpdate: (e: Election) => void;
}) {
  const { results } = useLiveResults(session.token, rt, election.id, onUpdate);
  const [choice, setChoice] = useState<string>('');
  const maxChoices = (election as RoomElection).maxChoices ?? 1;
  const [choices, setChoices] = useState<string[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [vote, setVote] = useState<StoredVote | null>(() => loadVote(session, election.id));
  // One idempotency key per ballot and choice: a retry after a network error or 503
  // (api.vote retries those itself) never votes twice, and choosing another option
  // afterwards is a new request (409 if the first one was taken), not a reused key (422).
  const [idemKeys] = useState(() => new Map<string, string>());
  const keyFor = (optionId: string): string => {
    let k = idemKeys.get(optionId);
    if (!k) {
      k = crypto.randomUUID();
      idemKeys.set(optionId, k);
    }
    return k;
  };
  const label = (id: string) => election.options.find((o) => o.id === id)?.label ?? id;
  const labels = (ids: readonly string[]) => ids.map(label).join(', ');
  const chosen = maxChoices > 1 ? choices : choice ? [choice] : [];

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const r =
        maxChoices > 1
          ? await roomApi.voteMany(session.token, election.id, choices, keyFor(choices.join('\n')))
          : await api.vote(session.token, election.id, choice, keyFor(choice));
      const v = {
        voteId: r.voteId,
        receipt: r.receipt,
        optionId: chosen[0] ?? choice,
        ...(maxChoices > 1 ? { optionIds: choices } : {}),
        ...(r.receiptNonce ? { nonce: r.receiptNonce } : {}),
      };
      localStorage.setItem(storeKey(session, election.id), JSON.stringify(v));
      setVote(v);
      setConfirming(false);
    } catch (e) {
      setError(e);
      if (e instanceof ApiError && !e.retryable) setConfirming(false);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="ballot-h">
      {onBack && (
        <button type="button" className="link" onClick={onBack}>
          ← All elections
        </button>
      )}
      <FocusHeading level={2} id="ballot-h">
        {election.title} <StatusBadge status={election.status} />
      </FocusHeading>
      {vote ? (
        <VoteTracker
          session={session}
          rt={rt}
          electionId={election.id}
          vote={vote}
          label={labels(vote.optionIds ?? [vote.optionId])}
        />
      ) : election.status === 'open' ? (
        confirming ? (
          <section className="panel confirm" aria-labelledby="confirm-h">
            <FocusHeading level={3} id="confirm-h">
              Confirm your vote
            </FocusHeading>
            <p>
              You are voting for <strong>{labels(chosen)}</strong>. You cannot change your vote afterwards.
            </p>
            <ErrorBox
              error={error}
              onRetry={error instanceof ApiError && error.retryable ? submit : undefined}
            />
            <div className="actions">
              <button type="button" onClick={submit} disabled={busy}>
                {busy ? 'Sending…' : 'Confirm vote'}
              </button>
              <button
                type="button"
                className="secondary"
                onClick={() => setConfirming(false)}
                disabled={busy}
              >
                Go back
              </button>
            </div>
          </section>
        ) : (
          <form
            className="panel"
            onSubmit={(ev) => {
              ev.preventDefault();
              if (choicesValid(chosen, maxChoices)) setConfirming(true);
            }}
          >
            {maxChoices > 1 ? (
              <ApprovalChoices
                options={election.options}
                maxChoices={maxChoices}
                value={choices}
                onChange={setChoices}
              />
            ) : (
              <fieldset>
                <legend>Choose one option</legend>
                {election.options.map((o) => (
                  <label key={o.id} className="choice">
                    <input
                      type="radio"
                      name="option"
                      value={o.id}
                      checked={choice === o.id}
                      onChange={() => setChoice(o.id)}
                    />
                    {o.label}
                  </label>
                ))}
              </fieldset>
            )}
            <ErrorBox error={error} />
            <button type="submit" disabled={!choicesValid(chosen, maxChoices)}>
              Review my vote
            </button>
          </form>
        )
      ) : (
        <p className="muted">This election is {election.status}: voting is not possible.</p>
      )}
      <h3>Results</h3>
      <ResultsChart election={election} results={results} />
    </section>
  );
}

function VoteTracker({
  session,
  rt,
  electionId,
  vote,
  label,
}: {
  session: Session;
  rt: Realtime | undefined;
  electionId: string;
  vote: StoredVote;
  label: string;
}) {
  const [status, setStatus] = useState<VoteStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  useTopic(rt, `vote:${vote.voteId}`, (m) => {
    if ((m.type === 'vote.finalized' || m.type === 'vote.rejected') && m.data) {
      setStatus(
        (s) =>
          ({ ...(s ?? { voteId: vote.voteId, receipt: vote.receipt }), ...(m.data as object) }) as VoteStatus,
      );
    } else if (m.type === 'subscribed' && m.snapshot) {
      setStatus(
        (s) =>
          ({
            ...(s ?? { voteId: vote.voteId, receipt: vote.receipt }),
            ...(m.snapshot as object),
          }) as VoteStatus,
      );
    }
  });
  const current = status?.status ?? 'pending';
  // A read now and then while pending, in case a push was missed.
  useEffect(() => {
    if (current !== 'pending') return;
    let stop = false;
    const poll = () =>
      api.voteStatus(session.token, vote.voteId).then(
        (v) => {
          if (!stop) setStatus((s) => (s && s.status !== 'pending' ? s : v));
          setError(null);
        },
        (e: unknown) => !stop && setError(e),
      );
    poll();
    const t = setInterval(poll, 4000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [current, session.token, vote.voteId]);
  // With the nonce (a URL fragment: never sent to the server) the auditor view also checks
  // that the entry carrying the receipt is this very ballot.
  const check = vote.nonce ? `${vote.receipt}:${vote.nonce}` : vote.receipt;
  const auditLink = `#/audit/${encodeURIComponent(electionId)}?receipt=${encodeURIComponent(check)}`;
  return (
    <section className="panel" aria-labelledby="your-vote-h">
      <FocusHeading level={3} id="your-vote-h">
        Your vote
      </FocusHeading>
      <p>
        You voted for <strong>{label}</strong>.
      </p>
      <p aria-live="polite">
        Status:{' '}
        <span className={`badge badge-${current}`} data-testid="vote-status">
          {current}
        </span>{' '}
        {current === 'pending' && <span className="muted">The coordinators are agreeing on your vote…</span>}
        {current === 'finalized' && <span>Your vote is counted.</span>}
        {current === 'rejected' && (
          <span>Your vote was rejected{status?.reason ? `: ${status.reason}` : ''}.</span>
        )}
      </p>
      <ErrorBox error={error} />
      <p>Your receipt (keep it to check your vote in the audit log):</p>
      <p className="receipt">
        <code data-testid="receipt">{vote.receipt}</code>{' '}
        <button
          type="button"
          className="secondary"
          onClick={() => navigator.clipboard?.writeText(vote.receipt).catch(() => {})}
        >
          Copy
        </button>
      </p>
      <p>
        <a href={auditLink}>Check my receipt in the audit log</a>
      </p>
    </section>
  );
}
