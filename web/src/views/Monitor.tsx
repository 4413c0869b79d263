import { useEffect, useRef, useState } from 'react';
import { api, type ClusterView, type Session } from '../api';
import { ErrorBox } from '../common';
import { type Realtime, type ServerMessage, useTopic } from '../realtime';

const HISTORY = 60;
const COLORS = ['#1f6feb', '#c2410c', '#15803d', '#7c3aed', '#be185d'];

interface Sample {
  t: number;
  offsets: Record<string, number | null>;
  finalizedPerS: number;
}

function Sparkline({
  series,
  label,
  unit,
}: {
  series: { name: string; values: (number | null)[] }[];
  label: string;
  unit: string;
}) {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = Math.max(1, ...all.map(Math.abs));
  const min = Math.min(0, ...all);
  const w = 300;
  const h = 80;
  const y = (v: number) => h - ((v - min) / (max - min || 1)) * (h - 4) - 2;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label} preserveAspectRatio="none">
        {series.map((s, i) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={COLORS[i % COLORS.length]}
            strokeWidth="2"
            points={s.values
              .map((v, j) => (v === null ? null : `${(j / Math.max(1, s.values.length - 1)) * w},${y(v)}`))
              .filter(Boolean)
              .join(' ')}
          />
        ))}
      </svg>
      <figcaption>
        {label} (max {max.toFixed(1)} {unit}){' '}
        {series.length > 1 &&
          series.map((s, i) => (
            <span key={s.name} style={{ color: COLORS[i % COLORS.length] }}>
              ■ {s.name}{' '}
            </span>
          ))}
      </figcaption>
    </figure>
  );
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
            <div className="scroll">
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
            </div>
            <Sparkline
              label="Clock offsets"
              unit="ms"
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
            <Sparkline
              label="Finalized votes per second"
              unit="/s"
              series={[{ name: 'finalized/s', values: history.map((s) => s.finalizedPerS) }]}
            />
          </div>
        </div>
      )}
      <div className="panel">
        <h3>Live events</h3>
        {events.length === 0 && (
          <p className="muted">No cluster events yet (leader changes, nodes, clock alarms).</p>
        )}
        <ol className="feed" aria-live="polite">
          {events.map((e) => (
            <li key={e.key} className={`ev-${e.type.replace('.', '-')}`}>
              <time>{new Date(e.ts).toLocaleTimeString()}</time> {e.text}
            </li>
          ))}
        </ol>
      </div>
    </section>
  );
}
