import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { api, type Session, setUnauthorizedHandler } from './api';
import { ErrorBox } from './common';
import { Realtime, useConnState } from './realtime';
import { CredentialSignIn } from './room/credential-sign-in';
import { JoinPage } from './room/join-page';
import { PresenterView } from './room/presenter';
import { AdminView } from './views/Admin';
import { AuditorView } from './views/Auditor';
import { MonitorView } from './views/Monitor';
import { TrusteeView } from './views/Trustee';
import { VoterView } from './views/Voter';

const SESSION_KEY = 'qv:session';

function loadSession(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return s && s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

/**
 * `#/vote`, `#/admin`, `#/monitor`, `#/trustee`, `#/audit/<electionId>?receipt=<r>`;
 * without a password: `#/c/<credential>` (voting link), `#/join/<code>`; and the
 * full-screen `#/present/<electionId>`.
 */
function parseHash(hash: string): { page: string; id?: string; receipt?: string } {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [page = '', id] = path.split('/');
  const receipt = new URLSearchParams(query).get('receipt') ?? undefined;
  return {
    page,
    ...(id ? { id: decodeURIComponent(id) } : {}),
    ...(receipt ? { receipt } : {}),
  };
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

const PAGES = {
  voter: [
    ['vote', 'Vote'],
    ['audit', 'Audit log'],
  ],
  admin: [
    ['admin', 'Elections'],
    ['monitor', 'Monitoring'],
    ['audit', 'Audit log'],
  ],
  auditor: [['audit', 'Audit log']],
  // Trustees take part in ceremonies and decrypt here (or with `npm run trustee`).
  trustee: [
    ['trustee', 'Ceremonies'],
    ['audit', 'Audit log'],
  ],
} as const;

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const hash = useHash();
  const route = parseHash(hash);
  const rt = useMemo(() => (session ? new Realtime(session.token) : undefined), [session]);
  useEffect(() => () => rt?.close(), [rt]);
  const conn = useConnState(rt);

  const signOut = () => {
    sessionStorage.removeItem(SESSION_KEY);
    setSession(null);
  };
  const keep = (s: Session) => {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    setSession(s);
  };
  useEffect(() => {
    setUnauthorizedHandler(signOut);
    return () => setUnauthorizedHandler(undefined);
  });

  // A voting link or a join code signs in by itself (replacing any session of this tab).
  if (route.page === 'c') {
    return (
      <Shell>
        <CredentialSignIn credential={route.id} onSignIn={keep} />
      </Shell>
    );
  }
  if (route.page === 'join') {
    return (
      <Shell>
        <JoinPage code={route.id} onSignIn={keep} />
      </Shell>
    );
  }
  if (!session) {
    return (
      <Shell>
        <SignIn onSignIn={keep} />
      </Shell>
    );
  }
  if (route.page === 'present' && route.id) {
    return (
      <main id="main" className="present-main">
        <PresenterView session={session} rt={rt} electionId={route.id} />
      </main>
    );
  }
  const pages = PAGES[session.role];
  const page = pages.some(([p]) => p === route.page) ? route.page : pages[0][0];
  return (
    <Shell
      header={
        <>
          <nav aria-label="Main">
            <ul>
              {pages.map(([p, label]) => (
                <li key={p}>
                  <a href={`#/${p}`} aria-current={p === page ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div className="who">
            <span className={`conn conn-${conn}`} title="Live updates connection">
              {conn === 'open' ? 'live' : conn === 'connecting' ? 'connecting…' : 'offline, retrying'}
            </span>
            <span>
              {session.username} <span className="role">({session.role})</span>
            </span>
            <button type="button" className="secondary" onClick={signOut}>
              Sign out
            </button>
          </div>
        </>
      }
    >
      {page === 'vote' && <VoterView session={session} rt={rt} />}
      {page === 'admin' && <AdminView session={session} rt={rt} />}
      {page === 'monitor' && <MonitorView session={session} rt={rt} />}
      {page === 'trustee' && <TrusteeView session={session} rt={rt} />}
      {page === 'audit' && (
        <AuditorView
          session={session}
          route={{
            ...(route.id ? { id: route.id } : {}),
            ...(route.receipt ? { receipt: route.receipt } : {}),
          }}
        />
      )}
    </Shell>
  );
}

function Shell({ header, children }: { header?: React.ReactNode; children: React.ReactNode }) {
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <h1>
          <a href="#/">quorumvote</a>
        </h1>
        {header}
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function SignIn({ onSignIn }: { onSignIn: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.signIn(username.trim(), password);
      onSignIn({
        token: r.token,
        role: r.role,
        sub: r.sub,
        username: username.trim(),
        expiresAt: Date.now() + r.expiresIn * 1000,
      });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="panel signin" onSubmit={submit} aria-labelledby="signin-h">
      <h2 id="signin-h">Sign in</h2>
      <p className="muted">Voters, administrators, auditors and trustees all sign in here.</p>
      <label>
        Username
        <input
          name="username"
          value={username}
          onChange={(e) => setUsername(e.target.value)}
          autoComplete="username"
          required
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete="current-password"
          required
        />
      </label>
      <ErrorBox error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
