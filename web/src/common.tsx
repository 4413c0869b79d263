import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { api, describeError, type Election, type Results } from './api';
import { type Realtime, useTopic } from './realtime';
import type { DecryptionState } from './secret';

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: (() => void) | undefined }) {
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <span>{describeError(error)}</span>
      {onRetry && (
        <button type="button" className="secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

/** Results as the web app reads them: a secret election's carry its decryption state (docs/api.md). */
export type LiveResults = Results & { decryption?: DecryptionState };

/** Whether `results` of `election` have no totals to show yet: a secret election before decryption. */
export function encryptedOnly(election: Election, results: LiveResults): boolean {
  return election.ballot === 'secret' && results.decryption?.state !== 'published';
}

/**
 * Results as a bar chart (plain HTML, readable by screen readers as a list). A secret
 * election has no totals until its trustees decrypt them: it shows its turnout and the
 * state of the encrypted tally instead of bars at zero.
 */
export function ResultsChart({ election, results }: { election: Election; results: LiveResults | null }) {
  if (!results) return <p className="muted">Loading results…</p>;
  const total = Object.values(results.totals).reduce((a, b) => a + b, 0);
  const d = results.decryption;
  return (
    <section className="results" aria-label={`Results of ${election.title}`}>
      {encryptedOnly(election, results) ? (
        <p className="muted" data-testid="encrypted-tally">
          Encrypted tally of {results.finalized} counted ballot{results.finalized === 1 ? '' : 's'}: the
          totals exist only once {election.threshold} of the {election.trustees?.length} trustees decrypt it
          after close
          {d ? ` (${d.shares} of ${d.threshold} decryption shares in; ${d.message})` : ''}.
        </p>
      ) : results.hidden ? (
        <p className="muted">Totals are hidden until the election closes.</p>
      ) : (
        <ul className="bars">
          {election.options.map((o) => {
            const n = results.totals[o.id] ?? 0;
            const pct = total ? Math.round((n / total) * 100) : 0;
            return (
              <li key={o.id} data-option={o.id}>
                <span className="bar-label">{o.label}</span>
                <span className="bar-track" aria-hidden="true">
                  <span className="bar-fill" style={{ width: `${pct}%` }} />
                </span>
                <span className="bar-value" data-testid={`count-${o.id}`}>
                  {n} <span className="muted">({pct}%)</span>
                </span>
              </li>
            );
          })}
        </ul>
      )}
      <p className="counts" aria-live="polite">
        <span>
          Counted: <strong data-testid="finalized">{results.finalized}</strong>
        </span>
        <span>
          Pending: <strong data-testid="pending">{results.pending}</strong>
        </span>
        <span>
          Rejected: <strong>{results.rejected}</strong>
        </span>
        {results.final ? (
          <strong className="final" data-testid="final">
            Final result
          </strong>
        ) : (
          <span className="muted">Live, as of {new Date(results.asOf).toLocaleTimeString()}</span>
        )}
      </p>
    </section>
  );
}

/**
 * An election's results: read once, then kept live over `election:<id>`. A push
 * (`tally.updated`, the subscription snapshot) carries the live counts, but for a secret
 * election neither totals nor the decryption state (its totals are zeros there, not
 * results): those are kept from the last read of GET /results, which is read again when
 * the push says something changed that they depend on (closed, final).
 */
export function useLiveResults(
  token: string,
  rt: Realtime | undefined,
  electionId: string | null,
  onLifecycle?: (e: Election) => void,
  secret = false,
): { results: LiveResults | null; error: unknown; reload: () => void } {
  const [results, setResults] = useState<LiveResults | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = useCallback(() => {
    if (!electionId) return;
    api.results(token, electionId).then(
      (r) => {
        setResults(r);
        setError(null);
      },
      (e: unknown) => setError(e),
    );
  }, [token, electionId]);
  useEffect(() => {
    setResults(null);
    reload();
  }, [reload]);
  const latest = useRef(results);
  latest.current = results;
  const pushed = (r: Results) => {
    if (!secret) return setResults(r);
    const prev = latest.current;
    if (!prev || prev.status !== r.status || prev.final !== r.final) reload();
    setResults({
      ...r,
      totals: prev?.totals ?? {},
      ...(prev?.decryption ? { decryption: prev.decryption } : {}),
    });
  };
  useTopic(rt, electionId ? `election:${electionId}` : null, (m) => {
    if (m.type === 'subscribed' && m.snapshot && 'totals' in m.snapshot) {
      pushed(m.snapshot as unknown as Results);
    } else if (m.type === 'tally.updated' && m.data) {
      pushed(m.data as unknown as Results);
    } else if ((m.type === 'election.opened' || m.type === 'election.closed') && m.data) {
      onLifecycle?.(m.data as unknown as Election);
      reload();
    }
  });
  // While something is pending, a slow poll backs up the push (e.g. after a reconnect);
  // a closed secret election is also polled until its trustees publish the totals.
  useEffect(() => {
    if (!results) return;
    const awaitingDecryption =
      secret && results.status === 'closed' && results.decryption?.state !== 'published';
    if (!awaitingDecryption && (results.final || (results.pending === 0 && results.status !== 'closed')))
      return;
    const t = setTimeout(reload, 3000);
    return () => clearTimeout(t);
  }, [results, reload, secret]);
  return { results, error, reload };
}

/**
 * Reads `read()` now and every `intervalMs` while `active`: each answer goes to
 * `onValue` and clears the error, a failure goes to `onError`. `key` names what is read
 * (e.g. token and election id): a new key restarts the polling; answers that arrive after
 * the key changed or the component left are dropped.
 */
export function usePolling<T>(
  key: string,
  intervalMs: number,
  read: () => Promise<T>,
  onValue: (value: T) => void,
  onError: (error: unknown) => void,
  active = true,
): void {
  const latest = useRef({ read, onValue, onError });
  latest.current = { read, onValue, onError };
  useEffect(() => {
    if (!active || !key) return;
    let live = true;
    const poll = () =>
      latest.current.read().then(
        (v) => {
          if (!live) return;
          latest.current.onValue(v);
          latest.current.onError(null);
        },
        (e: unknown) => live && latest.current.onError(e),
      );
    void poll();
    const t = setInterval(poll, intervalMs);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [key, intervalMs, active]);
}

export function useElections(token: string): {
  elections: Election[] | null;
  error: unknown;
  reload: () => void;
  update: (e: Election) => void;
} {
  const [elections, setElections] = useState<Election[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = useCallback(() => {
    api.elections(token).then(
      (r) => {
        setElections([...r.elections].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '')));
        setError(null);
      },
      (e: unknown) => setError(e),
    );
  }, [token]);
  useEffect(reload, [reload]);
  const update = useCallback(
    (e: Election) =>
      setElections((list) => (list ? list.map((x) => (x.id === e.id ? { ...x, ...e } : x)) : list)),
    [],
  );
  return { elections, error, reload, update };
}

/**
 * A box that scrolls sideways or down (a wide table, a long feed). It is focusable and
 * named so that keyboard users can scroll it too (WCAG 2.1.1; axe's
 * scrollable-region-focusable), not only people with a mouse or a touch screen.
 */
export function ScrollRegion({
  label,
  className = 'scroll',
  children,
}: {
  label: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to scroll it
    <section className={className} aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
