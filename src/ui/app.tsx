// The shell: header with search, navigation, theme and the signed-in user; the page for the
// current path; the sign-in page whenever the registry has accounts and nobody is signed in.
import { useEffect, useState } from 'preact/hooks';
import { session, rememberSession, whenSignedOut, apiPath, call, type SessionView } from './api.js';
import { Link, href, navigate, useRoute } from './router.js';
import { applyTheme, initialTheme, type Theme } from './theme.js';
import { SignIn } from './pages/sign-in.js';
import { Home } from './pages/home.js';
import { Search } from './pages/search.js';
import { ProjectPage } from './pages/project.js';
import { RepositoryPage } from './pages/repository.js';
import { ArtifactPage } from './pages/artifact.js';
import { AdminPage } from './pages/admin.js';
import { TokensPage } from './pages/tokens.js';
import type { Page, RepositorySummary } from './data.js';

export function App() {
  const [view, setView] = useState<SessionView | undefined>(undefined);
  const [ended, setEnded] = useState(false);
  useEffect(() => {
    session.get().then((v) => { rememberSession(v); setView(v); }, () => setView({ mode: 'open', identity: null, deleteEnabled: false, readOnly: true }));
    whenSignedOut(() => { setEnded(true); setView((v) => v && { ...v, identity: null }); });
  }, []);
  const route = useRoute();
  if (!view) return <p class="muted" role="status">Loading…</p>;
  const needsSignIn = view.mode !== 'open' && view.identity === null;
  const signedIn = (v: SessionView) => {
    rememberSession(v);
    setEnded(false);
    setView(v);
    const back = route.query.get('next');
    navigate(back && back.startsWith('/') ? back : href(''), true);
  };
  const signOut = async () => {
    await session.signOut().catch(() => undefined);
    rememberSession({ ...view, csrf: undefined });
    setView({ ...view, identity: null });
    navigate(href('sign-in'), true);
  };
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <Header view={view} onSignOut={signOut} />
      <main id="main" tabIndex={-1}>
        {needsSignIn ? <SignIn ended={ended} onSignedIn={signedIn} oidcLogin={view.oidcLogin} /> : <Routes view={view} />}
      </main>
    </>
  );
}

function Routes(props: { view: SessionView }) {
  const { path, query } = useRoute();
  if (path === '' || path === 'sign-in') return <Home view={props.view} />;
  if (path === 'search') return <Search q={query.get('q') ?? ''} />;
  if (path.startsWith('projects/')) return <ProjectPage name={path.slice('projects/'.length)} view={props.view} />;
  if (path.startsWith('repositories/')) {
    const rest = path.slice('repositories/'.length);
    const at = rest.indexOf('@');
    if (at > 0) return <ArtifactPage repository={rest.slice(0, at)} reference={rest.slice(at + 1)} />;
    return <RepositoryPage name={rest} view={props.view} />;
  }
  if (path === 'tokens') return <TokensPage view={props.view} />;
  if (path === 'admin') return <AdminPage view={props.view} tab={query.get('tab') ?? 'users'} />;
  return <section><h1>Not found</h1><p>There is no page here. <Link to={href('')}>Home</Link></p></section>;
}

function Header(props: { view: SessionView; onSignOut: () => void }) {
  const [theme, setTheme] = useState<Theme>(initialTheme());
  const [q, setQ] = useState('');
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const { path } = useRoute();
  const toggle = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    applyTheme(next, true);
    setTheme(next);
  };
  const signedIn = props.view.identity !== null || props.view.mode === 'open';
  const typeahead = async (text: string) => {
    setQ(text);
    if (text.length < 2) return setSuggestions([]);
    const page = await call<Page<RepositorySummary>>(apiPath('/repositories'), { query: { q: text, limit: 8 } }).catch(() => undefined);
    setSuggestions(page?.items.map((r) => r.name) ?? []);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    if (suggestions.includes(q)) navigate(href(`repositories/${q}`));
    else navigate(href('search', { q }));
  };
  return (
    <header class="top">
      <Link to={href('')} class="brand">Berth</Link>
      {signedIn && (
        <form role="search" class="search" onSubmit={submit}>
          <label for="search" class="visually-hidden">Search repositories</label>
          <input id="search" type="search" placeholder="Search repositories" value={q} list="search-suggestions" autocomplete="off"
            onInput={(e) => void typeahead((e.target as HTMLInputElement).value)} />
          <datalist id="search-suggestions">{suggestions.map((s) => <option value={s} />)}</datalist>
          <button type="submit" class="secondary">Search</button>
        </form>
      )}
      <nav aria-label="main" class="nav">
        {signedIn && <Link to={href('')} aria-current={path === '' ? 'page' : undefined}>Home</Link>}
        {props.view.identity?.kind === 'user' && <Link to={href('tokens')} aria-current={path === 'tokens' ? 'page' : undefined}>Access tokens</Link>}
        {props.view.identity?.admin && <Link to={href('admin')} aria-current={path === 'admin' ? 'page' : undefined}>Administration</Link>}
      </nav>
      <button type="button" class="secondary theme" aria-pressed={theme === 'dark'} onClick={toggle}>Dark theme</button>
      {props.view.identity && (
        <span class="user">
          <span aria-label="signed in as">{props.view.identity.name}</span>
          <button type="button" class="secondary" onClick={props.onSignOut}>Sign out</button>
        </span>
      )}
    </header>
  );
}
