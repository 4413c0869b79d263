import { type FormEvent, useState } from 'react';
import { ApiError, type Session } from '../api';
import { ErrorBox } from '../common';
import { rollBody } from './credential-files';
import { type RollImported, type RollProblem, roomApi } from './room-api';

/** The line-numbered problems of a refused import, when the answer carries them. */
function problemsOf(err: unknown): RollProblem[] {
  if (!(err instanceof ApiError) || err.code !== 'invalid_roll' || !Array.isArray(err.details)) return [];
  return (err.details as RollProblem[]).filter((p) => typeof p?.line === 'number');
}

/**
 * Imports a voter roll, pasted or read from a chosen CSV/JSON file (read in the browser:
 * the file itself is never uploaded as a file). All or nothing, like the server: a refusal
 * lists every bad line with its number so the file can be fixed and imported again.
 */
export function RollImport({
  session,
  electionId,
  onImported,
}: {
  session: Session;
  electionId: string;
  onImported: (r: RollImported) => void;
}) {
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const problems = problemsOf(error);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setError(null);
    if (!text.trim()) return setError(new Error('Paste a roll or choose a CSV or JSON file first.'));
    setBusy(true);
    try {
      const r = await roomApi.importRoll(session.token, electionId, rollBody(text));
      setText('');
      setFileName('');
      onImported(r);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel roll-import" onSubmit={submit} aria-labelledby="roll-import-h">
      <h4 id="roll-import-h">Import a voter roll</h4>
      <p className="muted">
        CSV with a header row (any of <code>name,email,external_id,username,weight,group</code>, in any order)
        or JSON (
        <code>
          [{'{'}"name": …, "email": …{'}'}]
        </code>
        ). Nothing is imported if any line is wrong.
      </p>
      <label>
        Roll file (CSV or JSON)
        <input
          type="file"
          accept=".csv,.json,.txt,text/csv,application/json,text/plain"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (!f) return;
            setFileName(f.name);
            setText(await f.text());
            setError(null);
          }}
        />
      </label>
      <label>
        Or paste the roll{fileName ? ` (read from ${fileName})` : ''}
        <textarea
          name="roll"
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={6}
          spellCheck={false}
          className="mono"
        />
      </label>
      <ErrorBox error={error} />
      {problems.length > 0 && (
        <ul className="roll-problems" aria-label="Problems in the roll" data-testid="roll-problems">
          {problems.map((p) => (
            <li key={`${p.line}:${p.field ?? ''}:${p.message}`}>
              <strong>Line {p.line}</strong>
              {p.field ? ` (${p.field})` : ''}: {p.message}
            </li>
          ))}
        </ul>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Importing…' : 'Import roll'}
      </button>
    </form>
  );
}
