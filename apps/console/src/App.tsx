import { useEffect, useRef, type ReactNode } from 'react';
import { href, useRoute, type Route } from './router';
import { useSessionContext } from './session/session';
import { Connectors } from './screens/Connectors';
import { CsLookup, CsObject } from './screens/CsObject';
import { Login } from './screens/Login';
import { ObjectView } from './screens/ObjectView';
import { Operations, RunView } from './screens/Operations';
import { Passwords } from './screens/Passwords';
import { Preview } from './screens/Preview';
import { Search } from './screens/Search';
import { formatTime } from './ui/format';

const NAV: { path: string; label: string }[] = [
  { path: 'search', label: 'Metaverse search' },
  { path: 'operations', label: 'Operations' },
  { path: 'connectors', label: 'Connectors' },
  { path: 'cs', label: 'Connector space' },
  { path: 'preview', label: 'Preview' },
  { path: 'passwords', label: 'Passwords' },
];

function screen(route: Route): ReactNode {
  const [first = 'search', a, b] = route.segments;
  switch (first) {
    case 'search':
      return <Search route={route} />;
    case 'objects':
      return a ? <ObjectView id={a} /> : <Search route={route} />;
    case 'operations':
      return <Operations />;
    case 'runs':
      return a ? <RunView runId={a} /> : <Operations />;
    case 'connectors':
      return <Connectors />;
    case 'cs':
      return a && b ? (
        <CsObject connector={a} anchor={b} />
      ) : (
        <>
          <h1>Connector space</h1>
          <p className="help">Open one connector space object by its connector and anchor (objectGUID for Exchange, objectSid for NT4).</p>
          <CsLookup target="cs" />
        </>
      );
    case 'preview':
      return <Preview {...(a ? { connector: a } : {})} {...(b ? { anchor: b } : {})} />;
    case 'passwords':
      return <Passwords {...(route.query.get('person') ? { person: route.query.get('person')! } : {})} />;
    default:
      return (
        <p className="state error" role="alert">
          There is no page “{route.segments.join('/')}”. Pick one from the menu.
        </p>
      );
  }
}

export function App() {
  const { session, logout } = useSessionContext();
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const page = route.segments.join('/');
  const first = useRef(true);
  // A new page moves the focus to it (screen readers announce it; keyboard users start there).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [page]);
  if (!session) return <Login />;
  const current = route.segments[0] ?? 'search';
  const active = current === 'objects' ? 'search' : current === 'runs' ? 'operations' : current;
  return (
    <div className="shell">
      <a className="skip" href="#main" onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}>
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href={href(['search'])}>
          Metaweave
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.path}>
                <a href={href([n.path])} aria-current={active === n.path ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span title={session.info.expiresAt ? `token expires ${formatTime(new Date(session.info.expiresAt).toISOString())}` : undefined}>
            {session.info.subject} <span className="subtle">({session.info.roles.join(', ') || 'no role'})</span>
          </span>
          <button type="button" className="secondary" onClick={logout}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        {screen(route)}
      </main>
    </div>
  );
}
