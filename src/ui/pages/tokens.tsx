// Personal access tokens of the signed-in user (/api/v1/user/tokens): the list with scopes,
// expiry and last use, revocation, and creation, whose token text is shown this once and never
// again (the server keeps only its hash). Every creation and revocation is audited there.
import { useState } from 'preact/hooks';
import type { SessionView } from '../api.js';
import { change, read, useLoad } from '../data.js';
import { age, when } from '../format.js';
import { Status } from '../components/bits.js';

const ACTIONS = ['pull', 'push', 'delete'];

export function TokensPage(props: { view: SessionView }) {
  if (props.view.identity?.kind !== 'user') {
    return <section><h1>Access tokens</h1><p>Personal access tokens belong to users: sign in with your user name and password to manage yours.</p></section>;
  }
  return <Tokens />;
}

function Tokens() {
  const tokens = useLoad(() => read.tokens(), 'tokens');
  const [name, setName] = useState('');
  const [project, setProject] = useState('*');
  const [actions, setActions] = useState<string[]>(['pull']);
  const [days, setDays] = useState('90');
  const [created, setCreated] = useState<{ name: string; token: string } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try { await fn(); tokens.reload(); } catch (e) { setError((e as Error).message); }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const made = await change.addToken(name, [{ project, actions }], days.trim() === '' ? undefined : `${Number(days) * 24}h`);
      setCreated({ name: made.name, token: made.token });
      setName('');
    });
  };
  const flip = (a: string) => setActions(actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a]);
  const live = (tokens.data ?? []).filter((t) => !t.revokedAt);
  return (
    <section>
      <h1>Access tokens</h1>
      <p>Use a token as the password of any client (<code>docker login</code>, <code>podman login</code>, skopeo, CI). It can do at most what you can, narrowed to its scopes.</p>
      <Status loading={tokens.loading} error={tokens.error}>
        {live.length === 0 ? <p class="muted">You have no tokens.</p> : (
          <table class="grid" data-testid="tokens">
            <caption class="visually-hidden">Your personal access tokens</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>{live.map((t) => (
              <tr>
                <th scope="row">{t.name}</th>
                <td>{t.scopes.map((s) => `${s.project}: ${s.actions.join(', ')}`).join('; ')}</td>
                <td>{when(t.createdAt)}</td>
                <td>{t.expiresAt ? when(t.expiresAt) : 'never'}</td>
                <td data-testid="last-used">{t.lastUsedAt ? age(t.lastUsedAt) : 'never'}</td>
                <td><button type="button" class="danger" onClick={() => void act(() => change.revokeToken(t.id))}>Revoke {t.name}</button></td>
              </tr>
            ))}</tbody>
          </table>
        )}
      </Status>
      <h2>New token</h2>
      <form class="stack" onSubmit={submit}>
        <div class="fields">
          <label for="token-name">Name</label>
          <input id="token-name" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /><span class="muted">what it is for, e.g. ci-deploy</span>
          <label for="token-project">Project</label>
          <input id="token-project" required value={project} onInput={(e) => setProject((e.target as HTMLInputElement).value)} /><span class="muted">* for every project you can reach</span>
          <label for="token-days">Expires after</label>
          <input id="token-days" inputMode="numeric" value={days} onInput={(e) => setDays((e.target as HTMLInputElement).value)} /><span class="muted">days; empty: never</span>
        </div>
        <fieldset>
          <legend>Actions</legend>
          {ACTIONS.map((a) => <label><input type="checkbox" checked={actions.includes(a)} onChange={() => flip(a)} /> {a}</label>)}
        </fieldset>
        <button type="submit">Create token</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {created && (
        <div class="notice" role="status">
          <p>Token <strong>{created.name}</strong> created. Copy it now: it is shown this once.</p>
          <p><code data-testid="token-text">{created.token}</code>{' '}
            <button type="button" class="secondary" onClick={() => void navigator.clipboard.writeText(created.token).catch(() => undefined)}>Copy token</button>{' '}
            <button type="button" class="secondary" onClick={() => setCreated(undefined)}>Done</button></p>
        </div>
      )}
    </section>
  );
}
