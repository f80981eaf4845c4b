// Sign-in with any account the registry accepts (htpasswd, database users, robot accounts, LDAP
// users), and with the OpenID Connect provider when the registry has one (a plain link: the
// provider's pages and the callback are whole-page navigations).
import { useState } from 'preact/hooks';
import { ApiError, session, type SessionView } from '../api.js';

export function SignIn(props: { ended: boolean; onSignedIn: (v: SessionView) => void; oidcLogin?: string | undefined }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      props.onSignedIn(await session.signIn(user, password));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 429 ? 'Too many failed sign-ins. Wait a minute and try again.'
        : err instanceof ApiError && err.status === 401 ? 'Wrong user name or password.' : (err as Error).message);
      setBusy(false);
    }
  };
  return (
    <section class="sign-in">
      <h1>Sign in to Berth</h1>
      {props.ended && <p class="notice" role="status">Your session has ended. Sign in again.</p>}
      <form onSubmit={submit} class="stack">
        <label for="user">User name</label>
        <input id="user" name="username" autocomplete="username" required value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
      {props.oidcLogin && <p><a class="button" href={props.oidcLogin}>Sign in with OpenID Connect</a></p>}
      <p class="muted">Users of the registry, its htpasswd file and robot accounts (robot$…) can sign in.</p>
    </section>
  );
}
