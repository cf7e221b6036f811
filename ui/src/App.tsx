import type { ReamClient } from '@client';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isUnauthorized, messageOf } from './format.ts';
import { Document } from './pages/Document.tsx';
import { Job } from './pages/Job.tsx';
import { Jobs } from './pages/Jobs.tsx';
import { Operate } from './pages/Operate.tsx';
import { Search } from './pages/Search.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { Submit } from './pages/Submit.tsx';
import { href, useRoute, type Route } from './router.ts';
import { clientFor, storedKey, storeKey } from './session.ts';

type Session =
  | { state: 'checking' }
  | { state: 'unreachable'; reason: string }
  | { state: 'signin'; reason: string }
  | { state: 'ready'; key: string | undefined };

/** How long the console waits before asking again a server it could not reach, in ms. */
const RETRY_MS = 3000;

/** Which page it is, without its query (a list's filters, a search's words): what moves focus. */
function pageKey(route: Route): string {
  switch (route.page) {
    case 'job':
      return `job/${route.jobId}`;
    case 'document':
      return `document/${route.jobId}/${route.documentId}`;
    default:
      return route.page;
  }
}

const NAV: Array<{ route: Route; label: string }> = [
  { route: { page: 'jobs' }, label: 'Jobs' },
  { route: { page: 'submit' }, label: 'New job' },
  { route: { page: 'search', q: '' }, label: 'Search' },
  { route: { page: 'operate' }, label: 'Operate' },
];

function PageFor({ route, client }: { route: Route; client: ReamClient }) {
  switch (route.page) {
    case 'jobs':
      return <Jobs client={client} status={route.status ?? ''} tenant={route.tenant ?? ''} q={route.q ?? ''} sort={route.sort ?? ''} />;
    case 'submit':
      return <Submit client={client} />;
    case 'job':
      return <Job client={client} jobId={route.jobId} documents={route.documents ?? ''} key={route.jobId} />;
    case 'document':
      // Keyed: another document is a new page, nothing of the last one's state carried over.
      return <Document client={client} jobId={route.jobId} documentId={route.documentId} at={route.at ?? 1} key={`${route.jobId}/${route.documentId}`} />;
    case 'search':
      return <Search client={client} q={route.q} filters={route.filters ?? {}} />;
    case 'operate':
      return <Operate client={client} />;
  }
}

/** The console: finds out whether the server needs a key, then shows the page the hash names. */
export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const main = useRef<HTMLElement>(null);

  const [attempt, setAttempt] = useState(0);

  // A stored key is tried first; without one, a server with auth off answers anyway. A server
  // that cannot be reached (restarting) or fails says nothing of the key: asked again shortly.
  useEffect(() => {
    const key = storedKey();
    let retry: ReturnType<typeof setTimeout> | undefined;
    clientFor(key)
      .listJobs({ limit: 1 })
      .then(
        () => setSession({ state: 'ready', key }),
        (failure: unknown) => {
          if (!isUnauthorized(failure)) {
            setSession({ state: 'unreachable', reason: messageOf(failure) });
            retry = setTimeout(() => setAttempt((n) => n + 1), RETRY_MS);
            return;
          }
          storeKey(undefined);
          setSession({ state: 'signin', reason: key === undefined ? '' : `Your key was refused: ${messageOf(failure)}` });
        },
      );
    return () => clearTimeout(retry);
  }, [attempt]);

  // Moves focus to the new page's heading, so keyboard and screen reader users land on it; a
  // change of the same page's filters or words (a route change too) leaves focus where it is.
  const page = pageKey(route);
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [page]);
  // Signing in or out shows another page in place: focus goes to its heading too.
  useEffect(() => {
    if (session.state === 'ready' || session.state === 'signin') main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [session.state]);

  // A key refused later (revoked, expired) sends the tab back to sign in.
  const client = useMemo(() => (session.state === 'ready' ? clientFor(session.key, () => {
    storeKey(undefined);
    setSession({
      state: 'signin',
      reason: session.key === undefined ? 'The server now asks for a key: sign in.' : 'Your key was refused: it may have been revoked or have expired. Sign in again.',
    });
  }) : undefined), [session]);
  const signOut = (): void => {
    storeKey(undefined);
    setSession({ state: 'signin', reason: '' });
  };

  return (
    <>
      {/* Not a plain #main link: with hash routes that would be read as a page. */}
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          const target = main.current?.querySelector<HTMLElement>('h1') ?? main.current;
          target?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <span class="brand">ream</span>
        {session.state === 'ready' ? (
          <nav aria-label="Main">
            {NAV.map(({ route: target, label }) => (
              <a key={label} href={href(target)} aria-current={target.page === route.page ? 'page' : undefined}>
                {label}
              </a>
            ))}
          </nav>
        ) : null}
        {session.state === 'ready' && session.key !== undefined ? (
          <button type="button" class="signout" onClick={signOut}>
            Sign out
          </button>
        ) : null}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {session.state === 'checking' ? <p>Connecting…</p> : null}
        {session.state === 'unreachable' ? (
          <p id="unreachable" role="status">
            Cannot reach the server ({session.reason}); trying again every {RETRY_MS / 1000} s.
          </p>
        ) : null}
        {session.state === 'signin' ? (
          <SignIn
            reason={session.reason}
            onSignedIn={(key) => {
              storeKey(key);
              setSession({ state: 'ready', key });
            }}
          />
        ) : null}
        {client === undefined ? null : <PageFor route={route} client={client} />}
      </main>
    </>
  );
}
