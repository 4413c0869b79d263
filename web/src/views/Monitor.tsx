import { useEffect, useRef, useState } from 'react';
import { api, type ClusterView, type Session } from '../api';
import { ErrorBox, ScrollRegion } from '../common';
import { type Realtime, type ServerMessage, useTopic } from '../realtime';
import { TimeChart } from '../time-chart';

const HISTORY = 60;

/** One poll of GET /cluster, as the charts plot it. */
interface Sample {
  t: number;
  offsets: Record<string, number | null>;
  finalizedPerS: number;
  pending: number;
}

function describeEvent(m: ServerMessage): string {
  const d = m.data ?? {};
  switch (m.type) {
    case 'leader.changed':
      return `Leader is now ${String(d['leader'] ?? d['nodeId'] ?? '?')} (term ${String(d['term'] ?? '?')})`;
    case 'node.joined':
      return `Node ${String(d['node'] ?? d['nodeId'] ?? '?')} joined`;
    case 'node.left':
      return `Node ${String(d['node'] ?? d['nodeId'] ?? '?')} left`;
    case 'clock.alarm':
      return d['state'] === 'cleared'
        ? `Clock of ${String(d['node'] ?? '?')} back in sync`
        : `Clock of ${String(d['node'] ?? '?')} out of sync (offset ${String(d['offsetMs'] ?? '?')} ms): it abstains`;
    default:
      return `${m.type}: ${JSON.stringify(d)}`;
  }
}

export function MonitorView({ session, rt }: { session: Session; rt: Realtime | undefined }) {
  const [view, setView] = useState<ClusterView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [history, setHistory] = useState<Sample[]>([]);
  const [events, setEvents] = useState<{ key: number; ts: string; text: string; type: string }[]>([]);
  const last = useRef<{ t: number; finalized: number } | null>(null);
  const seq = useRef(0);

  useEffect(() => {
    let stop = false;
    const poll = async () => {
      try {
        const v = await api.cluster(session.token);
        if (stop) return;
        const t = Date.now();
        const fin = v.queues.finalized ?? 0;
        const prev = last.current;
        const rate = prev && t > prev.t ? Math.max(0, ((fin - prev.finalized) * 1000) / (t - prev.t)) : 0;
        last.current = { t, finalized: fin };
        setView(v);
        setError(null);
        setHistory((h) =>
          [
            ...h,
            {
              t,
              finalizedPerS: rate,
              pending: v.queues.pending,
              offsets: Object.fromEntries(v.nodes.map((n) => [n.id, n.clockOffsetMs])),
            },
          ].slice(-HISTORY),
        );
      } catch (e) {
        if (!stop) setError(e);
      }
    };
    void poll();
    const timer = setInterval(poll, 2000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [session.token]);

  useTopic(rt, 'cluster', (m) => {
    if (m.type === 'subscribed' || m.type === 'unsubscribed') return;
    if (m.type === 'error') {
      setEvents((e) =>
        [
          { key: seq.current++, ts: new Date().toISOString(), type: 'error', text: m.message ?? 'error' },
          ...e,
        ].slice(0, 100),
      );
      return;
    }
    setEvents((e) =>
      [
        { key: seq.current++, ts: m.ts ?? new Date().toISOString(), type: m.type, text: describeEvent(m) },
        ...e,
      ].slice(0, 100),
    );
  });

  const times = history.map((s) => s.t);
  const nodeIds = [...new Set(history.flatMap((s) => Object.keys(s.offsets)))].sort();
  return (
    <section aria-labelledby="mon-h">
      <h2 id="mon-h">Cluster monitoring</h2>
      <ErrorBox error={error} />
      {!view && !error && <p className="muted">Loading…</p>}
      {view && (
        <div className="columns">
          <div className="panel">
            <h3>Coordinators</h3>
            <p>
              Leader: <strong data-testid="leader">{view.leader ?? 'none'}</strong> · term {view.term}
            </p>
            <ScrollRegion label="Coordinators">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Node</th>
                    <th scope="col">Role</th>
                    <th scope="col">Health</th>
                    <th scope="col">Term</th>
                    <th scope="col">Heartbeat age</th>
                    <th scope="col">Clock offset</th>
                    <th scope="col">Sync</th>
                  </tr>
                </thead>
                <tbody>
                  {view.nodes.map((n) => (
                    <tr key={n.id} data-testid={`node-${n.id}`} className={n.healthy ? '' : 'mismatch'}>
                      <td>{n.id}</td>
                      <td>{n.role}</td>
                      <td>{n.healthy ? 'healthy' : (n.health ?? 'unhealthy')}</td>
                      <td>{n.term ?? '–'}</td>
                      <td>
                        {n.heartbeatAgeMs !== undefined
                          ? `${(n.heartbeatAgeMs / 1000).toFixed(1)} s`
                          : n.lastHeartbeatAt}
                      </td>
                      <td>{n.clockOffsetMs === null ? '–' : `${n.clockOffsetMs.toFixed(1)} ms`}</td>
                      <td>{n.inSync === null ? '–' : n.inSync ? 'in sync' : 'NOT in sync'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
            <TimeChart
              title="Clock offset from the leader"
              unit="ms"
              testId="chart-offsets"
              times={times}
              series={nodeIds.map((id) => ({ name: id, values: history.map((s) => s.offsets[id] ?? null) }))}
            />
          </div>
          <div className="panel">
            <h3>Redis Cluster</h3>
            <p>
              State <strong data-testid="redis-state">{view.redis.state}</strong> · {view.redis.masters}{' '}
              masters · {view.redis.replicas} replicas · {view.redis.slotsCovered} / 16384 slots covered
            </p>
            {view.redis.nodes && (
              <ul className="plain">
                {view.redis.nodes.map((n) => (
                  <li key={n.address}>
                    {n.address} — {n.role}
                    {n.role === 'master' ? `, ${n.slots} slots` : ''}
                    {n.failing ? ' — FAILING' : ''}
                  </li>
                ))}
              </ul>
            )}
            <h3>Pipeline</h3>
            <p>
              Pending <strong>{view.queues.pending}</strong> · finalized {view.queues.finalized ?? 0} ·
              rejected {view.queues.rejected ?? 0} · active elections {view.queues.activeElections ?? 0}
            </p>
            <TimeChart
              title="Finalized votes per second"
              unit="/s"
              testId="chart-throughput"
              times={times}
              series={[{ name: 'finalized', values: history.map((s) => s.finalizedPerS) }]}
            />
            <TimeChart
              title="Votes pending"
              unit="votes"
              testId="chart-pending"
              times={times}
              series={[{ name: 'pending', values: history.map((s) => s.pending) }]}
            />
          </div>
        </div>
      )}
      <div className="panel">
        <h3>Live events</h3>
        {events.length === 0 && (
          <p className="muted">No cluster events yet (leader changes, nodes, clock alarms).</p>
        )}
        <ScrollRegion label="Live events" className="feed-box">
          <ol className="feed" aria-live="polite">
            {events.map((e) => (
              <li key={e.key} className={`ev-${e.type.replace('.', '-')}`}>
                <time>{new Date(e.ts).toLocaleTimeString()}</time> {e.text}
              </li>
            ))}
          </ol>
        </ScrollRegion>
      </div>
    </section>
  );
}
