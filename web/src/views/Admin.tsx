import { type FormEvent, useState } from 'react';
import { api, type Election, type Role, type Session } from '../api';
import { ErrorBox, ResultsChart, StatusBadge, useElections, useLiveResults } from '../common';
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
      <div className="actions">
        <button type="button" onClick={() => act('open')} disabled={busy || election.status !== 'draft'}>
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

function CreateElection({ session, onCreated }: { session: Session; onCreated: (e: Election) => void }) {
  const [title, setTitle] = useState('');
  const [options, setOptions] = useState<string[]>(['', '']);
  const [opensAt, setOpensAt] = useState('');
  const [closesAt, setClosesAt] = useState('');
  const [voters, setVoters] = useState<UserSummary[]>([]);
  const [access, setAccess] = useState<'roll' | 'code'>('roll');
  const [maxChoices, setMaxChoices] = useState(1);
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
    setBusy(true);
    try {
      const e = await api.createElection(session.token, {
        title: title.trim(),
        options: opts,
        ...(opensAt ? { opensAt: new Date(opensAt).toISOString() } : {}),
        ...(closesAt ? { closesAt: new Date(closesAt).toISOString() } : {}),
        ...(list.length ? { voters: list } : {}),
        // Sent only when not the default, as the API's defaults are exactly these.
        ...(access === 'code' ? { access } : {}),
        ...(maxChoices > 1 ? { maxChoices } : {}),
      });
      setDone(`Created “${e.title}” (draft). Open it when ready.`);
      setTitle('');
      setOptions(['', '']);
      setVoters([]);
      setMaxChoices(1);
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
      <div className="row">
        <label className="grow">
          Who votes
          <select name="access" value={access} onChange={(e) => setAccess(e.target.value as 'roll' | 'code')}>
            <option value="roll">Voter roll</option>
            <option value="code">Join code (a room joins)</option>
          </select>
        </label>
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
      {access === 'roll' && (
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
