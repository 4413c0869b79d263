import type { Role } from '../shared/consensus/raft';

/** This node's role and term, as of the last change. */
export interface RoleState {
  role: Role;
  term: number;
}

/**
 * What the subsystems see of this node's leadership: the current role, and a push on
 * every change. The election driver sets it the moment the state machine reports a
 * role change, so the pipeline and the fan-out act at the instant of a takeover
 * instead of noticing it on their next poll.
 */
export interface LeadershipView {
  current(): RoleState;
  /** The term while this node leads, else null (leader-only work is fenced with it). */
  leaderTerm(): number | null;
  /** Calls `listener` on every later change; returns the unsubscribe function. */
  onChange(listener: (now: RoleState, before: RoleState) => void): () => void;
}

/** The driver's side: set on every `roleChanged` output of the state machine. */
export class Leadership implements LeadershipView {
  private state: RoleState = { role: 'follower', term: 0 };
  private readonly listeners = new Set<(now: RoleState, before: RoleState) => void>();

  current(): RoleState {
    return this.state;
  }

  leaderTerm(): number | null {
    return this.state.role === 'leader' ? this.state.term : null;
  }

  onChange(listener: (now: RoleState, before: RoleState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records a role change and tells every listener (a listener's error does not stop the others). */
  set(role: Role, term: number): void {
    const before = this.state;
    if (before.role === role && before.term === term) return;
    this.state = { role, term };
    for (const l of this.listeners) {
      try {
        l(this.state, before);
      } catch {
        // A listener's failure is its own; the election driver must carry on.
      }
    }
  }
}
