// Home: recent pushes, projects, storage used and the registry's health. Administrators see the
// registry's storage as the reference tables count it (every blob once, /api/v1/usage) and each
// project's deduplicated usage; others see what the repositories they may pull hold.
import type { SessionView } from '../api.js';
import { call } from '../api.js';
import { read, useLoad, type ProjectUsage, type RepositorySummary } from '../data.js';
import { Link, href } from '../router.js';
import { age, bytes } from '../format.js';
import { Status } from '../components/bits.js';

interface Readiness { status: string; checks?: Record<string, { status: string; message?: string }> }

export function Home(props: { view: SessionView }) {
  const admin = props.view.identity?.admin === true || props.view.mode === 'open';
  const recent = useLoad(() => read.repositories({ sort: 'lastPush', order: 'desc', limit: 100 }), 'home');
  const health = useLoad(() => call<Readiness>('/readyz').catch((e: Error) => ({ status: `unavailable (${e.message})` })), 'health');
  const storage = useLoad(() => (admin ? Promise.all([read.storage(), read.projectUsage()]) : Promise.resolve(undefined)), `storage-${admin}`);
  const repos = recent.data?.items ?? [];
  const projects = new Map<string, RepositorySummary[]>();
  for (const r of repos) projects.set(r.project, [...(projects.get(r.project) ?? []), r]);
  const usage = new Map<string, ProjectUsage>((storage.data?.[1].items ?? []).map((p) => [p.project, p]));
  const total = storage.data?.[0];
  const visibleBytes = repos.reduce((n, r) => n + r.sizeBytes, 0);
  return (
    <section>
      <h1>{props.view.identity ? `Welcome, ${props.view.identity.name}` : 'Registry'}</h1>
      <div class="cards">
        <div class="card"><h2>Repositories</h2><p class="big" data-testid="repository-count">{total ? total.repositories : `${repos.length}${recent.data?.next ? '+' : ''}`}</p></div>
        <div class="card">
          <h2>Storage used</h2>
          {admin
            ? <><p class="big" data-testid="storage-used" data-bytes={total?.totalBytes}>{total ? bytes(total.totalBytes) : storage.error ? '–' : '…'}</p>
              <p class="muted">{total ? `${total.blobs} blobs, each counted once, in ${total.projects} project${total.projects === 1 ? '' : 's'}` : storage.error?.message}</p></>
            : <><p class="big" data-testid="storage-used" data-bytes={visibleBytes}>{bytes(visibleBytes)}</p>
              <p class="muted">held by the {repos.length}{recent.data?.next ? '+' : ''} repositories you may pull</p></>}
        </div>
        <div class="card"><h2>Health</h2><p class="big" data-testid="health">{health.data?.status ?? '…'}</p></div>
      </div>
      <Status loading={recent.loading} error={recent.error}>
        <h2>Recent pushes</h2>
        {repos.length === 0 ? <p class="muted">Nothing pushed yet. Push with any client, e.g. <code>docker push {location.host}/team/app:v1</code>.</p> : (
          <table class="grid">
            <caption class="visually-hidden">Repositories by last push</caption>
            <thead><tr><th scope="col">Repository</th><th scope="col">Tags</th><th scope="col">Size</th><th scope="col">Last push</th></tr></thead>
            <tbody>
              {repos.slice(0, 15).map((r) => (
                <tr><td><Link to={href(`repositories/${r.name}`)}>{r.name}</Link></td><td>{r.tags}</td><td>{bytes(r.sizeBytes)}</td><td>{age(r.lastPushAt)}</td></tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Projects</h2>
        <ul class="projects" data-testid="projects">
          {[...new Set([...projects.keys(), ...usage.keys()])].sort((a, b) => a.localeCompare(b)).map((name) => {
            const u = usage.get(name);
            const list = projects.get(name) ?? [];
            return (
              <li><Link to={href(`projects/${name}`)}>{name}</Link>{' '}
                <span class="muted" data-bytes={u?.totalBytes}>{u
                  ? `${u.repositories} repositories, ${bytes(u.totalBytes)} (${bytes(u.uniqueBytes)} in no other project)`
                  : `${list.length} repositories, ${bytes(list.reduce((n, r) => n + r.sizeBytes, 0))}`}</span></li>
            );
          })}
        </ul>
      </Status>
    </section>
  );
}
