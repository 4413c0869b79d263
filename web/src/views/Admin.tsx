import { type FormEvent, useEffect, useState } from 'react';
import { api, type Election, type Role, type Session } from '../api';
import type { CeremonyView } from '../trustee';
import { ErrorBox, ResultsChart, StatusBadge, useElections, useLiveResults, usePolling } from '../common';
import type { Realtime } from '../realtime';
import { RoomControl } from '../room/room-control';
import type { UserSummary } from '../room/room-api';
import { UserPicker } from '../room/user-picker';

const slug = (s: string, i: number) =>
  s
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || `option-${i + 1}`;

export function AdminView({ session, rt }: { session: Session; rt: Realtime | undefined }) {
  const { elections, error, reload, update } = useElections(session.token);
  const [selected, setSelected] = useState<string | null>(null);
  const election = elections?.find((e) => e.id === selected) ?? null;
  return (
    <div className="columns">
      <section aria-labelledby="admin-list-h">
        <h2 id="admin-list-h">Elections</h2>
        <ErrorBox error={error} onRetry={reload} />
        {elections && elections.length === 0 && <p className="muted">No elections yet: create one.</p>}
        <ul className="cards">
          {elections?.map((e) => (
            <li key={e.id}>
              <button
                type="button"
                className="card"
                aria-current={e.id === selected ? 'true' : undefined}
                onClick={() => setSelected(e.id)}
              >
                <span className="card-title">{e.title}</span>
                <StatusBadge status={e.status} />
              </button>
            </li>
          ))}
        </ul>
        {election && <ElectionControl session={session} rt={rt} election={election} onUpdate={update} />}
      </section>
      <div>
        <CreateElection
          session={session}
          onCreated={(e) => {
            reload();
            setSelected(e.id);
          }}
        />
        <AddUser session={session} />
      </div>
    </div>
  );
}

function ElectionControl({
  session,
  rt,
  election,
  onUpdate,
}: {
  session: Session;
  rt: Realtime | undefined;
  election: Election;
  onUpdate: (e: Election) => void;
}) {
  const { results } = useLiveResults(session.token, rt, election.id, onUpdate, election.ballot === 'secret');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const act = async (what: 'open' | 'close') => {
    setBusy(true);
    setError(null);
    try {
      onUpdate(await api[what](session.token, election.id));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const turnout = results ? results.finalized + results.pending + results.rejected : 0;
  return (
    <section className="panel" aria-labelledby="control-h">
      <h3 id="control-h">
        {election.title} <StatusBadge status={election.status} />
      </h3>
      <p className="muted">
        Id <code>{election.id}</code>
        {election.restricted ? ' · only listed voters may vote' : ' · any voter may vote'}
      </p>
      {election.ballot === 'secret' && election.status === 'draft' && (
        <CeremonyControl session={session} election={election} onUpdate={onUpdate} />
      )}
      <div className="actions">
        <button
          type="button"
          onClick={() => act('open')}
          disabled={
            busy ||
            election.status !== 'draft' ||
            (election.ballot === 'secret' && election.ceremony !== 'done')
          }
        >
          Open election
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => act('close')}
          disabled={busy || election.status !== 'open'}
        >
          Close election
        </button>
        <a className="button secondary" href={`#/audit/${encodeURIComponent(election.id)}`}>
          Audit
        </a>
      </div>
      <ErrorBox error={error} />
      <p>
        Turnout: <strong data-testid="turnout">{turnout}</strong> vote{turnout === 1 ? '' : 's'} received
      </p>
      <ResultsChart election={election} results={results} />
      <RoomControl session={session} election={election} />
    </section>
  );
}

/** What each ceremony state means for the admin (docs/secret-ballots.md). */
function ceremonySummary(view: CeremonyView): string {
  const n = view.trustees.length;
  const count = (f: (t: CeremonyView['trustees'][number]) => boolean) => view.trustees.filter(f).length;
  switch (view.state) {
    case 'commitments':
      return `Waiting for the trustees' commitments: ${count((t) => t.committed)} of ${n} published.`;
    case 'shares':
      return `The trustees are dealing and checking shares: ${count((t) => t.dealt)} of ${n} dealt, ${count((t) => t.acknowledged)} of ${n} acknowledged. Finish the ceremony once every trustee has acknowledged or complained.`;
    case 'done':
      return `Done: qualified trustees ${(view.qualified ?? []).join(', ')} (any ${view.threshold} of them decrypt the tally). The election can open.`;
    default:
      return view.failure ?? 'The key ceremony failed: this election can never open; create a new election.';
  }
}

/**
 * A secret election's key ceremony as the admin follows it (GET /ceremony, polled until
 * it ends): who committed, dealt and acknowledged, the complaints, and the button that
 * finishes it (POST /ceremony/finish) once the trustees have dealt.
 */
function CeremonyControl({
  session,
  election,
  onUpdate,
}: {
  session: Session;
  election: Election;
  onUpdate: (e: Election) => void;
}) {
  const [view, setView] = useState<CeremonyView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ended = view?.state === 'done' || view?.state === 'failed';
  usePolling(
    `${session.token}|${election.id}`,
    2000,
    () => api.ceremony(session.token, election.id),
    setView,
    setError,
    !ended,
  );
  // The election's own `ceremony` field follows the view (it decides whether Open is enabled).
  useEffect(() => {
    if (view && view.state !== election.ceremony)
      api.election(session.token, election.id).then(onUpdate, () => {});
  }, [view, election.ceremony, election.id, session.token, onUpdate]);
  const finish = async () => {
    setBusy(true);
    setError(null);
    try {
      setView(await api.finishCeremony(session.token, election.id));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel" aria-labelledby="ceremony-h">
      <h4 id="ceremony-h">Key ceremony</h4>
      {view ? (
        <>
          <p data-testid="admin-ceremony-state" role="status">
            {ceremonySummary(view)}
          </p>
          <ul data-testid="admin-ceremony-trustees">
            {view.trustees.map((t) => (
              <li key={t.index}>
                Trustee {t.index} (<code>{t.id}</code>): {t.committed ? 'committed' : 'not committed'},{' '}
                {t.dealt ? 'dealt' : 'not dealt'}, {t.acknowledged ? 'acknowledged' : 'not acknowledged'}
              </li>
            ))}
          </ul>
          {view.complaints.length > 0 && (
            <ul data-testid="admin-ceremony-complaints" aria-label="Complaints">
              {view.complaints.map((c) => (
                <li key={`${c.from}-${c.against}`}>
                  Trustee {c.from} complained against trustee {c.against}:{' '}
                  {!c.answered ? 'not answered yet' : c.upheld ? 'upheld' : 'answered, not upheld'}
                </li>
              ))}
            </ul>
          )}
        </>
      ) : (
        !error && <p className="muted">Reading the key ceremony…</p>
      )}
      <ErrorBox error={error} />
      {!ended && (
        <button type="button" onClick={finish} disabled={busy || view?.state !== 'shares'}>
          {busy ? 'Finishing…' : 'Finish the ceremony'}
        </button>
      )}
    </section>
  );
}

function CreateElection({ session, onCreated }: { session: Session; onCreated: (e: Election) => void }) {
  const [title, setTitle] = useState('');
  const [options, setOptions] = useState<string[]>(['', '']);
  const [opensAt, setOpensAt] = useState('');
  const [closesAt, setClosesAt] = useState('');
  const [voters, setVoters] = useState<UserSummary[]>([]);
  const [access, setAccess] = useState<'roll' | 'code'>('roll');
  const [maxChoices, setMaxChoices] = useState(1);
  const [ballot, setBallot] = useState<'open' | 'secret'>('open');
  const [trustees, setTrustees] = useState<UserSummary[]>([]);
  const [threshold, setThreshold] = useState(1);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState('');
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setError(null);
    setDone('');
    const labels = options.map((o) => o.trim()).filter(Boolean);
    if (!title.trim()) return setError(new Error('Give the election a title.'));
    if (labels.length < 2) return setError(new Error('Give at least two options.'));
    const ids = new Set<string>();
    const opts = labels.map((label, i) => {
      let id = slug(label, i);
      while (ids.has(id)) id = `${id}-${i + 1}`;
      ids.add(id);
      return { id, label };
    });
    const list = voters.map((u) => u.id);
    if (maxChoices < 1 || maxChoices > opts.length)
      return setError(
        new Error(`“Choose up to” must be between 1 and ${opts.length} (the number of options).`),
      );
    const secret = ballot === 'secret';
    if (secret && trustees.length === 0)
      return setError(
        new Error('A secret ballot needs at least one trustee: add users with the trustee role.'),
      );
    if (secret && (!Number.isInteger(threshold) || threshold < 1 || threshold > trustees.length))
      return setError(
        new Error(
          `The threshold must be a whole number from 1 to ${trustees.length} (the number of trustees).`,
        ),
      );
    setBusy(true);
    try {
      const e = await api.createElection(session.token, {
        title: title.trim(),
        options: opts,
        ...(opensAt ? { opensAt: new Date(opensAt).toISOString() } : {}),
        ...(closesAt ? { closesAt: new Date(closesAt).toISOString() } : {}),
        ...(list.length ? { voters: list } : {}),
        // Sent only when not the default, as the API's defaults are exactly these.
        ...(access === 'code' && !secret ? { access } : {}),
        ...(maxChoices > 1 && !secret ? { maxChoices } : {}),
        ...(secret
          ? {
              ballot: 'secret' as const,
              trustees: trustees.map((t) => t.id),
              threshold,
              ...(maxChoices > 1 ? { maxSelections: maxChoices } : {}),
            }
          : {}),
      });
      setDone(
        secret
          ? `Created “${e.title}” (secret ballot, draft). Its trustees now run the key ceremony; open it once the ceremony is done.`
          : `Created “${e.title}” (draft). Open it when ready.`,
      );
      setTitle('');
      setOptions(['', '']);
      setVoters([]);
      setMaxChoices(1);
      setTrustees([]);
      setThreshold(1);
      onCreated(e);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="create-h">
      <h2 id="create-h">Create an election</h2>
      <label>
        Title
        <input
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          required
          maxLength={200}
          name="title"
        />
      </label>
      <fieldset>
        <legend>Options</legend>
        {options.map((o, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: options are edited in place by position
          <div className="row" key={i}>
            <label className="grow">
              Option {i + 1}
              <input
                value={o}
                name={`option-${i + 1}`}
                onChange={(e) => setOptions(options.map((x, j) => (j === i ? e.target.value : x)))}
              />
            </label>
            {options.length > 2 && (
              <button
                type="button"
                className="secondary"
                aria-label={`Remove option ${i + 1}`}
                onClick={() => setOptions(options.filter((_, j) => j !== i))}
              >
                Remove
              </button>
            )}
          </div>
        ))}
        <button
          type="button"
          className="secondary"
          disabled={options.length >= 64}
          onClick={() => setOptions([...options, ''])}
        >
          Add option
        </button>
      </fieldset>
      <div className="row">
        <label className="grow">
          Opens at (optional)
          <input type="datetime-local" value={opensAt} onChange={(e) => setOpensAt(e.target.value)} />
        </label>
        <label className="grow">
          Closes at (optional)
          <input type="datetime-local" value={closesAt} onChange={(e) => setClosesAt(e.target.value)} />
        </label>
      </div>
      <label>
        Ballot
        <select name="ballot" value={ballot} onChange={(e) => setBallot(e.target.value as 'open' | 'secret')}>
          <option value="open">Open: live totals</option>
          <option value="secret">Secret: encrypted ballots, trustees decrypt the totals</option>
        </select>
      </label>
      {ballot === 'secret' && (
        <>
          <UserPicker
            session={session}
            userRole="trustee"
            label="Trustees (users with the trustee role; numbered 1, 2, … in the order added)"
            value={trustees}
            onChange={setTrustees}
          />
          {/* No `max`: n changes as trustees are added or removed; submit checks k against n and says so. */}
          <label>
            Threshold: trustees needed to decrypt the totals (1 to {Math.max(1, trustees.length)})
            <input
              type="number"
              name="threshold"
              min={1}
              value={threshold}
              onChange={(e) => setThreshold(Number(e.target.value))}
            />
          </label>
        </>
      )}
      <div className="row">
        {ballot === 'open' ? (
          <label className="grow">
            Who votes
            <select
              name="access"
              value={access}
              onChange={(e) => setAccess(e.target.value as 'roll' | 'code')}
            >
              <option value="roll">Voter roll</option>
              <option value="code">Join code (a room joins)</option>
            </select>
          </label>
        ) : (
          <p className="grow muted">Who votes: the voter roll (a secret ballot needs voter accounts).</p>
        )}
        <label className="grow">
          Choose up to (options per ballot)
          <input
            type="number"
            name="maxChoices"
            min={1}
            max={Math.max(1, options.length)}
            value={maxChoices}
            onChange={(e) => setMaxChoices(Math.trunc(Number(e.target.value)) || 1)}
          />
        </label>
      </div>
      {(access === 'roll' || ballot === 'secret') && (
        <UserPicker
          session={session}
          label="Voter list (optional: empty = any voter; a roll can be imported after creating)"
          value={voters}
          onChange={setVoters}
        />
      )}
      <ErrorBox error={error} />
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create election'}
      </button>
    </form>
  );
}

function AddUser({ session }: { session: Session }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('voter');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState('');
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setError(null);
    setDone('');
    try {
      const u = await api.createUser(session.token, { username, password, role });
      setDone(`Created ${u.role} ${u.username} (id ${u.id}).`);
      setUsername('');
      setPassword('');
    } catch (e) {
      setError(e);
    }
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="user-h">
      <h2 id="user-h">Add a user</h2>
      <label>
        Username
        <input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="off" />
      </label>
      <label>
        Password
        <input
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
          autoComplete="new-password"
        />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <option value="voter">voter</option>
          <option value="auditor">auditor</option>
          <option value="trustee">trustee</option>
          <option value="admin">admin</option>
        </select>
      </label>
      <ErrorBox error={error} />
      {done && (
        <p className="ok" role="status">
          {done}
        </p>
      )}
      <button type="submit">Add user</button>
    </form>
  );
}
