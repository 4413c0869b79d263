import { useEffect, useRef, useSyncExternalStore } from 'react';

/**
 * One WebSocket per signed-in session (API.md "WebSocket"), through the web server's
 * same-origin `/ws` proxy. Components subscribe to topics with {@link useTopic}; the
 * client re-subscribes everything after a reconnect (with backoff), and each topic's
 * `subscribed` reply carries a snapshot so nothing is missed while disconnected.
 */
export interface ServerMessage {
  type: string;
  topic?: string;
  data?: Record<string, unknown>;
  snapshot?: Record<string, unknown>;
  code?: string;
  message?: string;
  ts?: string;
}

export type ConnState = 'connecting' | 'open' | 'closed';
type Listener = (m: ServerMessage) => void;

export function wsUrl(token: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws?token=${encodeURIComponent(token)}`;
}

export class Realtime {
  private ws: WebSocket | undefined;
  private readonly topics = new Map<string, Set<Listener>>();
  private stateListeners = new Set<() => void>();
  private retry = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  state: ConnState = 'connecting';

  constructor(private readonly token: string) {
    this.connect();
  }

  private setState(s: ConnState): void {
    this.state = s;
    for (const l of this.stateListeners) l();
  }

  private connect(): void {
    if (this.closed) return;
    this.setState('connecting');
    const ws = new WebSocket(wsUrl(this.token));
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      this.setState('open');
      for (const t of this.topics.keys()) this.send({ action: 'subscribe', topic: t });
    };
    ws.onmessage = (ev) => {
      let m: ServerMessage;
      try {
        m = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      if (!m.topic) return;
      for (const l of this.topics.get(m.topic) ?? []) l(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.setState('closed');
      if (this.closed) return;
      const delay = Math.min(10000, 500 * 2 ** this.retry++);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  private send(frame: { action: 'subscribe' | 'unsubscribe'; topic: string }): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  subscribe(topic: string, l: Listener): () => void {
    let set = this.topics.get(topic);
    if (!set) {
      set = new Set();
      this.topics.set(topic, set);
      this.send({ action: 'subscribe', topic });
    }
    set.add(l);
    return () => {
      const s = this.topics.get(topic);
      if (!s) return;
      s.delete(l);
      if (s.size === 0) {
        this.topics.delete(topic);
        this.send({ action: 'unsubscribe', topic });
      }
    };
  }

  onState(l: () => void): () => void {
    this.stateListeners.add(l);
    return () => this.stateListeners.delete(l);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }
}

/** Calls `onMessage` for every message of `topic` (null: nothing) while mounted. */
export function useTopic(rt: Realtime | undefined, topic: string | null, onMessage: Listener): void {
  const ref = useRef(onMessage);
  ref.current = onMessage;
  useEffect(() => {
    if (!rt || !topic) return;
    return rt.subscribe(topic, (m) => ref.current(m));
  }, [rt, topic]);
}

export function useConnState(rt: Realtime | undefined): ConnState {
  return useSyncExternalStore(
    (cb) => (rt ? rt.onState(cb) : () => {}),
    () => rt?.state ?? 'closed',
  );
}
