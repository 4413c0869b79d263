import { useEffect, useState } from 'react';
import { type AuditEntry, api, type Results, type Session } from '../api';
import { type VerifyReport, receiptHash, verifyAudit } from '../audit';
import { ErrorBox, ScrollRegion, StatusBadge, useElections } from '../common';
import { SecretAudit } from './SecretAudit';

interface Loaded {
  electionId: string;
  partitions: number;
  entries: AuditEntry[];
  results: Results;
  report: VerifyReport;
  /** The election hides its totals until close: so is its log. */
  hidden: boolean;
}

/** Reads the whole log; results before and after must agree, else the log moved under us. */
async function loadAndVerify(token: string, electionId: string): Promise<Loaded> {
  // Its final chain heads, recorded when the result became final: like `npm run verify`,
  // the log must still pass through them even if the results were republished since.
  const { finalChainHeads } = await api.election(token, electionId);
  for (let attempt = 0; ; attempt++) {
    const before = await api.results(token, electionId);
    const entries: AuditEntry[] = [];
    let cursor: string | null = null;
    let partitions = 0;
    let hidden = false;
    for (let pages = 0; pages < 10000; pages++) {
      const page = await api.audit(token, electionId, cursor);
      // A secret election is verified from its record (SecretAudit), never from this page.
      if ('ballot' in page) throw new Error('This is a secret-ballot election: verify its record.');
      partitions = page.partitions;
      hidden ||= page.hidden === true;
      entries.push(...page.entries);
      if (page.nextCursor === null || page.nextCursor === cursor) break;
      cursor = page.nextCursor;
    }
    const after = await api.results(token, electionId);
    const stable =
      before.finalized === after.finalized &&
      before.rejected === after.rejected &&
      JSON.stringify(before.chainHeads) === JSON.stringify(after.chainHeads);
    if (stable || attempt >= 4) {
      const report = await verifyAudit(electionId, partitions, entries, after, finalChainHeads ?? null);
      if (!stable)
        report.problems.push(
          'The results kept changing while the log was read: verify again when counting settles.',
        );
      return {
        electionId,
        partitions,
        entries,
        results: after,
        hidden,
        report: { ...report, ok: report.problems.length === 0 && stable },
      };
    }
  }
}

export function AuditorView({
  session,
  route,
}: {
  session: Session;
  route: { id?: string; receipt?: string };
}) {
  const { elections, error: listError, reload } = useElections(session.token);
  const [electionId, setElectionId] = useState(route.id ?? '');
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [receipt, setReceipt] = useState(route.receipt ?? '');
  const [shown, setShown] = useState(100);
  /** A secret election's record is verified by SecretAudit instead (a new run per click). */
  const [secretRun, setSecretRun] = useState<{ id: string; run: number } | null>(null);

  const verify = async (id = electionId) => {
    if (!id) return;
    setBusy(true);
    setError(null);
    try {
      if ((await api.election(session.token, id)).ballot === 'secret') {
        setLoaded(null);
        setSecretRun((r) => ({ id, run: (r?.run ?? 0) + 1 }));
        return;
      }
      setSecretRun(null);
      setLoaded(await loadAndVerify(session.token, id));
      setShown(100);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: verify once when arriving from a receipt link
  useEffect(() => {
    if (route.id) {
      setElectionId(route.id);
      setReceipt(route.receipt ?? '');
      void verify(route.id);
    }
  }, [route.id, route.receipt]);

  const election = elections?.find((e) => e.id === (loaded?.electionId ?? electionId));
  const label = (id: string) => election?.options.find((o) => o.id === id)?.label ?? id;
  // "R" or "R:NONCE": with the voter's nonce, the entry must be the ballot the receipt commits to.
  const [wanted = '', nonce = ''] = receipt.trim().split(':');
  const found = loaded && wanted ? loaded.report.byReceipt.get(wanted) : undefined;
  const [bound, setBound] = useState<boolean | null>(null);
  useEffect(() => {
    setBound(null);
    if (!found || !nonce || !loaded) return;
    let live = true;
    void receiptHash(loaded.electionId, found.ballotId, found.option, nonce).then((h) => {
      if (live) setBound(h === found.receipt);
    });
    return () => {
      live = false;
    };
  }, [found, nonce, loaded]);
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <p className="muted">
        Everything below is recomputed in your browser (SHA-256 with WebCrypto) from the published log:
        nothing is taken on trust from the server.
      </p>
      <ErrorBox error={listError} onRetry={reload} />
      <form
        className="row panel"
        onSubmit={(ev) => {
          ev.preventDefault();
          void verify();
        }}
      >
        <label className="grow">
          Election
          <select value={electionId} onChange={(e) => setElectionId(e.target.value)} name="election">
            <option value="">Choose an election…</option>
            {elections?.map((e) => (
              <option key={e.id} value={e.id}>
                {e.title} ({e.status})
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={!electionId || busy}>
          {busy ? 'Verifying…' : 'Load and verify'}
        </button>
      </form>
      <ErrorBox error={error} onRetry={() => verify()} />
      {secretRun && (
        <>
          <SecretAudit
            key={`${secretRun.id}:${secretRun.run}`}
            session={session}
            electionId={secretRun.id}
            tracker={receipt}
          />
          <label className="panel">
            Tracking code
            <input
              value={receipt}
              onChange={(e) => setReceipt(e.target.value)}
              name="tracker"
              spellCheck={false}
              autoComplete="off"
            />
          </label>
        </>
      )}
      {loaded && (
        <>
          <div
            className={`panel verdict ${loaded.hidden ? '' : loaded.report.ok ? 'good' : 'bad'}`}
            role="status"
            data-testid="verdict"
          >
            {loaded.hidden
              ? 'This election hides its totals until it closes: its audit log is published then.'
              : loaded.report.ok
                ? `Verified: ${loaded.report.entries} entries, every hash chain intact, totals match the published results.`
                : `Verification FAILED: ${loaded.report.problems.length} problem(s).`}
          </div>
          {loaded.report.problems.length > 0 && (
            <ul className="problems">
              {loaded.report.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          )}
          <div className="columns">
            <div className="panel">
              <h3>Hash chains</h3>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Partition</th>
                    <th scope="col">Entries</th>
                    <th scope="col">Chain</th>
                  </tr>
                </thead>
                <tbody>
                  {loaded.report.partitions.map((p) => (
                    <tr key={p.partition}>
                      <td>{p.partition}</td>
                      <td>{p.entries}</td>
                      <td>{p.ok ? '✔ intact' : '✘ broken'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="panel">
              <h3>
                Recount <StatusBadge status={loaded.results.final ? 'final' : loaded.results.status} />
              </h3>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Option</th>
                    <th scope="col">Recounted</th>
                    <th scope="col">Published</th>
                  </tr>
                </thead>
                <tbody>
                  {(election?.options.map((o) => o.id) ?? Object.keys(loaded.report.totals)).map((id) => {
                    const mine = loaded.report.totals[id] ?? 0;
                    const theirs = loaded.results.hidden ? null : (loaded.results.totals[id] ?? 0);
                    return (
                      <tr key={id} className={theirs !== null && mine !== theirs ? 'mismatch' : ''}>
                        <td>{label(id)}</td>
                        <td data-testid={`recount-${id}`}>{mine}</td>
                        <td>{theirs ?? 'hidden'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <p className="muted">
                {loaded.report.counted} counted, {loaded.report.rejected} rejected in the log.
              </p>
            </div>
          </div>
          <div className="panel">
            <h3>Check a receipt</h3>
            <label>
              Receipt
              <input
                value={receipt}
                onChange={(e) => setReceipt(e.target.value)}
                name="receipt"
                spellCheck={false}
                autoComplete="off"
              />
            </label>
            {found && bound !== null && (
              <p role="status" data-testid="receipt-binding" className={bound ? 'ok' : 'error'}>
                {bound
                  ? 'Your nonce confirms it: this entry is your ballot (the receipt commits to its ballot id and option).'
                  : 'WARNING: this receipt does not commit to the entry that carries it (another ballot id or option).'}
              </p>
            )}
            {receipt.trim() && (
              <p role="status" data-testid="receipt-result" className={found ? 'ok' : 'error'}>
                {found
                  ? `Found: ${found.outcome === 'counted' ? `counted for “${label(found.option)}”` : `rejected (${found.reason})`}, partition ${found.partition} entry ${found.seq} (ballot ${found.ballotId.slice(0, 8)}…), chain verified.`
                  : 'Not found in this audit log (a vote still pending is not in the log yet).'}
              </p>
            )}
          </div>
          <div className="panel">
            <h3>Entries ({loaded.entries.length})</h3>
            <ScrollRegion label="Audit log entries">
              <table className="entries">
                <thead>
                  <tr>
                    <th scope="col">Partition</th>
                    <th scope="col">#</th>
                    <th scope="col">Ballot</th>
                    <th scope="col">Receipt</th>
                    <th scope="col">Option</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Hash</th>
                  </tr>
                </thead>
                <tbody>
                  {loaded.entries.slice(0, shown).map((e) => (
                    <tr key={`${e.partition}:${e.seq}`} className={e.receipt === wanted ? 'highlight' : ''}>
                      <td>{e.partition}</td>
                      <td>{e.seq}</td>
                      <td>
                        <code title={e.ballotId}>{e.ballotId.slice(0, 8)}…</code>
                      </td>
                      <td>
                        <code>{e.receipt.slice(0, 16)}…</code>
                      </td>
                      <td>{label(e.option)}</td>
                      <td>{e.outcome}</td>
                      <td>
                        <code title={e.hash}>{e.hash.slice(0, 12)}…</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
            {shown < loaded.entries.length && (
              <button type="button" className="secondary" onClick={() => setShown(shown + 200)}>
                Show more
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
