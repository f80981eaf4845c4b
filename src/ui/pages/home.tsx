// Home: recent pushes, projects, storage used and the registry's health.
import type { SessionView } from '../api.js';
import { call } from '../api.js';
import { read, useLoad, type RepositorySummary } from '../data.js';
import { Link, href } from '../router.js';
import { age, bytes } from '../format.js';
import { Status } from '../components/bits.js';

interface Readiness { status: string; checks?: Record<string, { status: string; message?: string }> }

export function Home(props: { view: SessionView }) {
  const recent = useLoad(() => read.repositories({ sort: 'lastPush', order: 'desc', limit: 100 }), 'home');
  const health = useLoad(() => call<Readiness>('/readyz').catch((e: Error) => ({ status: `unavailable (${e.message})` })), 'health');
  const repos = recent.data?.items ?? [];
  const projects = new Map<string, RepositorySummary[]>();
  for (const r of repos) projects.set(r.project, [...(projects.get(r.project) ?? []), r]);
  const used = repos.reduce((n, r) => n + r.sizeBytes, 0);
  return (
    <section>
      <h1>{props.view.identity ? `Welcome, ${props.view.identity.name}` : 'Registry'}</h1>
      <div class="cards">
        <div class="card"><h2>Repositories</h2><p class="big" data-testid="repository-count">{repos.length}{recent.data?.next ? '+' : ''}</p></div>
        <div class="card"><h2>Storage used</h2><p class="big" data-testid="storage-used">{bytes(used)}</p><p class="muted">sum of the repositories' own sizes</p></div>
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
        <ul class="projects">
          {[...projects.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, list]) => (
            <li><Link to={href(`projects/${name}`)}>{name}</Link> <span class="muted">{list.length} repositories, {bytes(list.reduce((n, r) => n + r.sizeBytes, 0))}</span></li>
          ))}
        </ul>
      </Status>
    </section>
  );
}
