// Administration (system administrators): users, projects, robots, the audit log (filters, CSV),
// garbage collection (dry run and run, with the report), pull-through upstreams, trust policies
// (config.yml's shown, the API's added, edited and removed) and the notification dead letters. Everything goes through the admin and read APIs, which audit changes.
import { useState } from 'preact/hooks';
import type { SessionView } from '../api.js';
import { auditCsvUrl, change, read, useLoad, type AuditFilter } from '../data.js';
import { Link, href } from '../router.js';
import { age, bytes, when } from '../format.js';
import { Pager, Status } from '../components/bits.js';
import { RobotForm } from '../components/robot-form.js';

const TABS = [['users', 'Users'], ['projects', 'Projects'], ['robots', 'Robots'], ['audit', 'Audit log'], ['gc', 'Garbage collection'], ['upstreams', 'Upstreams'], ['trust', 'Trust policies'], ['notifications', 'Dead letters']] as const;

export function AdminPage(props: { view: SessionView; tab: string }) {
  if (!props.view.identity?.admin && props.view.mode !== 'open') return <section><h1>Administration</h1><p>Only system administrators may administer the registry.</p></section>;
  return (
    <section>
      <h1>Administration</h1>
      <nav aria-label="administration" class="tabs">
        {TABS.map(([id, label]) => <Link to={href('admin', { tab: id })} aria-current={props.tab === id ? 'page' : undefined}>{label}</Link>)}
      </nav>
      {props.tab === 'users' && <Users />}
      {props.tab === 'projects' && <Projects />}
      {props.tab === 'robots' && <Robots />}
      {props.tab === 'audit' && <Audit />}
      {props.tab === 'gc' && <Gc />}
      {props.tab === 'upstreams' && <Upstreams />}
      {props.tab === 'trust' && <TrustPolicies />}
      {props.tab === 'notifications' && <DeadLetters />}
    </section>
  );
}

function useAct(): [string | undefined, (fn: () => Promise<unknown>, after?: () => void) => Promise<void>] {
  const [error, setError] = useState<string | undefined>(undefined);
  const act = async (fn: () => Promise<unknown>, after?: () => void) => {
    setError(undefined);
    try { await fn(); after?.(); } catch (e) { setError((e as Error).message); }
  };
  return [error, act];
}

function Users() {
  const users = useLoad(() => read.users(), 'users');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  const [error, act] = useAct();
  return (
    <>
      <h2>Users</h2>
      <Status loading={users.loading} error={users.error}>
        <table class="grid">
          <thead><tr><th scope="col">Name</th><th scope="col">Administrator</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>{users.data?.map((u) => (
            <tr><td>{u.name}</td><td>{u.admin ? 'yes' : 'no'}</td><td>{when(u.createdAt)}</td>
              <td><button type="button" class="secondary" onClick={() => act(() => change.removeUser(u.name), users.reload)}>Remove {u.name}</button></td></tr>
          ))}</tbody>
        </table>
      </Status>
      <form class="inline" onSubmit={(e) => { e.preventDefault(); void act(() => change.addUser(name, password, admin), () => { setName(''); setPassword(''); users.reload(); }); }}>
        <label for="new-user">Name</label>
        <input id="new-user" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <label for="new-password">Password</label>
        <input id="new-password" type="password" autocomplete="new-password" required minLength={8} value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        <label><input type="checkbox" checked={admin} onChange={() => setAdmin(!admin)} /> administrator</label>
        <button type="submit">Add user</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </>
  );
}

function Projects() {
  const projects = useLoad(() => read.projects(), 'projects');
  const [name, setName] = useState('');
  const [isPublic, setPublic] = useState(false);
  const [error, act] = useAct();
  return (
    <>
      <h2>Projects</h2>
      <Status loading={projects.loading} error={projects.error}>
        <table class="grid">
          <thead><tr><th scope="col">Name</th><th scope="col">Visibility</th><th scope="col">Allowed from</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>{projects.data?.map((p) => (
            <tr><td><Link to={href(`projects/${p.name}`)}>{p.name}</Link></td><td>{p.public ? 'public' : 'private'}</td><td>{p.allowFrom.join(', ') || 'anywhere'}</td>
              <td><button type="button" class="secondary" onClick={() => act(() => change.setProject(p.name, !p.public), projects.reload)}>Make {p.name} {p.public ? 'private' : 'public'}</button></td></tr>
          ))}</tbody>
        </table>
      </Status>
      <form class="inline" onSubmit={(e) => { e.preventDefault(); void act(() => change.addProject(name, isPublic), () => { setName(''); projects.reload(); }); }}>
        <label for="new-project">Name</label>
        <input id="new-project" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <label><input type="checkbox" checked={isPublic} onChange={() => setPublic(!isPublic)} /> public</label>
        <button type="submit">Add project</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </>
  );
}

function Robots() {
  const robots = useLoad(() => read.robots(), 'robots');
  const projects = useLoad(() => read.projects(), 'projects');
  const [project, setProject] = useState('');
  const [error, act] = useAct();
  const chosen = project || projects.data?.[0]?.name || '';
  return (
    <>
      <h2>Robot accounts</h2>
      <Status loading={robots.loading} error={robots.error}>
        <table class="grid">
          <thead><tr><th scope="col">Name</th><th scope="col">Permissions</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>{robots.data?.map((r) => (
            <tr><td>{r.name}</td><td>{r.permissions.map((p) => `${p.project}: ${p.actions.join(', ')}`).join('; ')}</td><td>{r.expiresAt ? when(r.expiresAt) : 'never'}</td>
              <td><button type="button" class="secondary" onClick={() => act(() => change.removeRobot(r.name), robots.reload)}>Remove {r.name}</button></td></tr>
          ))}</tbody>
        </table>
      </Status>
      {error && <p class="error" role="alert">{error}</p>}
      {projects.data && projects.data.length > 0 && (
        <>
          <label for="robot-project">Project</label>{' '}
          <select id="robot-project" value={chosen} onChange={(e) => setProject((e.target as HTMLSelectElement).value)}>
            {projects.data.map((p) => <option value={p.name}>{p.name}</option>)}
          </select>
          <RobotForm project={chosen} onCreated={robots.reload} />
        </>
      )}
    </>
  );
}

const AUDIT_PAGE = 50;

/** A datetime-local field's value as an ISO time (the browser's time zone), or '' when empty. */
function isoTime(local: string): string {
  return local ? new Date(local).toISOString() : '';
}

function Audit() {
  const [filters, setFilters] = useState({ actor: '', action: '', repository: '', since: '', until: '' });
  const [applied, setApplied] = useState<AuditFilter>({});
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const entries = useLoad(() => read.audit({ ...applied, limit: AUDIT_PAGE, ...(cursor ? { cursor } : {}) }), `${JSON.stringify(applied)}|${cursor ?? ''}`);
  const field = (key: keyof typeof filters, label: string, type: 'text' | 'datetime-local' = 'text') => (
    <>
      <label for={`audit-${key}`}>{label}</label>
      <input id={`audit-${key}`} type={type as 'text'} value={filters[key]} onInput={(e) => setFilters({ ...filters, [key]: (e.target as HTMLInputElement).value })} />
    </>
  );
  const items = entries.data?.items ?? [];
  return (
    <>
      <h2>Audit log</h2>
      <form class="inline" onSubmit={(e) => {
        e.preventDefault();
        setCursors([]);
        setApplied({ actor: filters.actor, action: filters.action, repository: filters.repository, since: isoTime(filters.since), until: isoTime(filters.until) });
      }}>
        {field('actor', 'Actor')}{field('action', 'Action')}{field('repository', 'Repository')}{field('since', 'Since', 'datetime-local')}{field('until', 'Until', 'datetime-local')}
        <button type="submit">Filter</button>
        {/* The server writes the whole filtered log (every page) as the download; the cookie goes with the link. */}
        <a href={auditCsvUrl(applied)} download="berth-audit.csv">Export CSV</a>
      </form>
      <Status loading={entries.loading} error={entries.error}>
        {items.length === 0 ? <p class="muted" role="status">No entry matches.</p> : (
          <table class="grid" data-testid="audit">
            <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Address</th><th scope="col">Action</th><th scope="col">Target</th></tr></thead>
            <tbody>{items.map((e) => <tr><td>{when(e.at)}</td><td>{e.actor}</td><td>{e.address}</td><td>{e.action}</td><td>{e.target}</td></tr>)}</tbody>
          </table>
        )}
        <Pager hasPrevious={cursors.length > 0} next={entries.data?.next ?? null} onPrevious={() => setCursors(cursors.slice(0, -1))} onNext={() => entries.data?.next && setCursors([...cursors, entries.data.next])} />
      </Status>
    </>
  );
}

function Gc() {
  const [report, setReport] = useState<Record<string, unknown> | undefined>(undefined);
  const [error, act] = useAct();
  const [busy, setBusy] = useState(false);
  const runs = useLoad(() => read.gcRuns(), 'gc-runs');
  const run = (dryRun: boolean) => { setBusy(true); void act(async () => setReport(await change.gc(dryRun)), runs.reload).finally(() => setBusy(false)); };
  return (
    <>
      <h2>Garbage collection</h2>
      <p>Removes blobs and manifests nothing references any more (content younger than the grace period stays).</p>
      <div class="actions">
        <button type="button" class="secondary" disabled={busy} onClick={() => run(true)}>Dry run</button>
        <button type="button" class="danger" disabled={busy} onClick={() => run(false)}>Collect garbage</button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {report && <pre class="json" data-testid="gc-report">{JSON.stringify(report, null, 2)}</pre>}
      <h3>Past runs</h3>
      <Status loading={runs.loading} error={runs.error}>
        {runs.data?.items.length === 0 ? <p class="muted">No collection has run yet.</p> : (
          <table class="grid" data-testid="gc-runs">
            <thead><tr><th scope="col">Started</th><th scope="col">By</th><th scope="col">Kind</th><th scope="col">Freed</th><th scope="col">Blobs</th><th scope="col">Manifests</th><th scope="col">Layer links</th><th scope="col">Took</th></tr></thead>
            <tbody>{runs.data?.items.map((r) => (
              <tr><td>{when(r.startedAt)}</td><td>{r.trigger}{r.actor ? ` (${r.actor})` : ''}</td><td>{r.dryRun ? 'dry run' : 'run'}</td>
                <td>{bytes(r.bytes)}{r.dryRun ? ' (would)' : ''}</td><td>{r.blobs}</td><td>{r.manifests}</td><td>{r.layerLinks}</td><td>{(r.durationMs / 1000).toFixed(1)} s</td></tr>
            ))}</tbody>
          </table>
        )}
      </Status>
    </>
  );
}

function Upstreams() {
  const upstreams = useLoad(() => read.upstreams(), 'upstreams');
  const items = upstreams.data?.items ?? [];
  const ratio = (hit: number, miss: number) => (hit + miss === 0 ? '–' : `${Math.round((100 * hit) / (hit + miss))}%`);
  return (
    <>
      <h2>Pull-through upstreams</h2>
      <Status loading={upstreams.loading} error={upstreams.error}>
        {items.length === 0 ? <p class="muted">No pull-through cache is configured (<code>proxy.upstreams</code> or <code>proxy.remoteurl</code>).</p> : (
          <>
            <table class="grid" data-testid="upstreams">
              <thead><tr>
                <th scope="col">Upstream</th><th scope="col">Local names</th><th scope="col">Breaker</th><th scope="col">Cached</th>
                <th scope="col">Hits / misses</th><th scope="col">Hit ratio</th><th scope="col">Served</th><th scope="col">Fetched</th><th scope="col">Errors</th>
              </tr></thead>
              <tbody>{items.map((u) => {
                const all = u.totals;
                const hits = all.hits.manifest + all.hits.blob;
                const misses = all.misses.manifest + all.misses.blob;
                const t = u.traffic;
                const reasons = t ? Object.entries(t.errors).filter(([, n]) => n > 0) : [];
                return (
                  <tr>
                    <th scope="row">{u.name}<br /><span class="muted">{u.remoteurl}</span></th>
                    <td>{u.prefix === null ? 'every name' : <code>{u.prefix}/…</code>}{u.namespaces.length > 0 && <><br /><span class="muted">?ns={u.namespaces.join(', ')}</span></>}</td>
                    <td><span class={`badge ${u.breaker === 'closed' ? 'ok' : 'warn'}`}>{u.breaker}</span></td>
                    <td>{bytes(u.cache.bytes)}<br /><span class="muted">{u.cache.manifests} manifests, {u.cache.blobs} blobs, {u.cache.tags} tags; last pull {age(u.cache.lastPulledAt)}</span></td>
                    <td data-testid="upstream-hits" data-hits={hits} data-misses={misses}>{`${hits} / ${misses}`}
                      {t && <><br /><span class="muted">this process: {t.hits.manifest + t.hits.blob} / {t.misses.manifest + t.misses.blob}</span></>}</td>
                    <td>{ratio(hits, misses)}</td>
                    <td data-testid="upstream-served" data-bytes={all.servedBytes}>{bytes(all.servedBytes)}</td>
                    <td data-testid="upstream-fetched" data-bytes={all.upstreamBytes}>{bytes(all.upstreamBytes)}</td>
                    <td>{all.errors === 0 ? 'none' : all.errors}{reasons.length > 0 && <><br /><span class="muted">this process: {reasons.map(([k, n]) => `${k}: ${n}`).join(', ')}</span></>}</td>
                  </tr>
                );
              })}</tbody>
            </table>
            <p class="muted">Cached: the cache's bookkeeping. Hits, misses, bytes served from the cache and fetched from upstream, errors: every replica sharing this metadata database, since it first counted (each replica adds its counts every 2 s){items.some((u) => u.traffic !== null) ? '; "this process" is the replica that answered, since it started' : ''}. Limits: {items.map((u) => `${u.name} ${u.maxBytes > 0 ? bytes(u.maxBytes) : 'no size limit'}, ${u.maxAgeMs > 0 ? `evicted after ${Math.round(u.maxAgeMs / 86_400_000)}d unpulled` : 'no age limit'}, tags rechecked after ${Math.round(u.ttlMs / 1000)}s`).join('; ')}.</p>
          </>
        )}
      </Status>
    </>
  );
}

const POLICY_EXAMPLE = '{\n  "repositories": ["prod/*"],\n  "mode": "enforce",\n  "keys": ["-----BEGIN PUBLIC KEY-----\\n...\\n-----END PUBLIC KEY-----\\n"],\n  "exempt": []\n}';

/**
 * Trust policies: config.yml's shown, the stored ones added, replaced (their JSON loaded into the
 * form) and removed. The body is the admin API's, keys and certificates as PEM text; the server
 * checks it and its refusal, naming the key, is shown as is.
 */
function TrustPolicies() {
  const policies = useLoad(() => read.trustPolicies(), 'trust-policies');
  const [name, setName] = useState('');
  const [body, setBody] = useState('');
  const [error, act] = useAct();
  const store = () => act(async () => {
    let parsed: unknown;
    try { parsed = JSON.parse(body); } catch (e) { throw new Error(`the policy is not JSON: ${(e as Error).message}`); }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the policy must be a JSON object');
    await change.putTrustPolicy(name, parsed as Record<string, unknown>);
  }, () => { setName(''); setBody(''); policies.reload(); });
  return (
    <>
      <h2>Trust policies</h2>
      <Status loading={policies.loading} error={policies.error}>
        {policies.data?.length === 0 ? <p class="muted">No trust policy: every image is served signed or not.</p> : (
          <table class="grid" data-testid="trust-policies">
            <thead><tr><th scope="col">Name</th><th scope="col">Mode</th><th scope="col">Repositories</th><th scope="col">Satisfied by</th><th scope="col">From</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>{policies.data?.map((p) => (
              <tr>
                <th scope="row">{p.name}</th>
                <td><span class={`badge ${p.mode === 'enforce' ? 'warn' : 'ok'}`}>{p.mode}</span></td>
                <td>{p.repositories.join(', ') || '–'}{p.upstreams.length > 0 && <><br /><span class="muted">verify: {p.upstreams.join(', ')}</span></>}{p.exempt.length > 0 && <><br /><span class="muted">exempt: {p.exempt.join(', ')}</span></>}</td>
                <td>{p.satisfiedBy}</td>
                <td>{p.origin === 'config' ? 'config.yml' : <>admin API<br /><span class="muted">{p.updatedAt ? when(p.updatedAt) : ''}</span></>}</td>
                <td>{p.origin === 'api' && (
                  <>
                    <button type="button" class="secondary" onClick={() => { setName(p.name); const { name: _n, ...rest } = p.body ?? {}; setBody(JSON.stringify(rest, null, 2)); }}>Edit {p.name}</button>{' '}
                    <button type="button" class="secondary" onClick={() => act(() => change.removeTrustPolicy(p.name), policies.reload)}>Remove {p.name}</button>
                  </>
                )}</td>
              </tr>
            ))}</tbody>
          </table>
        )}
      </Status>
      <form onSubmit={(e) => { e.preventDefault(); void store(); }}>
        <p><label for="trust-name">Policy name</label>{' '}
          <input id="trust-name" required pattern="[A-Za-z0-9._-]+" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></p>
        <p><label for="trust-body">Policy (JSON: repositories, mode, keys or certificates as PEM text, exempt)</label><br />
          <textarea id="trust-body" required rows={10} cols={80} spellcheck={false} placeholder={POLICY_EXAMPLE} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} /></p>
        <button type="submit">Store policy</button>
      </form>
      <p class="muted">Policies of config.yml are changed there. A stored policy is in force at the next pull on every replica; each change is in the audit log.</p>
      {error && <p class="error" role="alert">{error}</p>}
    </>
  );
}

function DeadLetters() {
  const [endpoint, setEndpoint] = useState('');
  const [applied, setApplied] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const letters = useLoad(() => read.deadLetters({ limit: 50, ...(applied ? { endpoint: applied } : {}), ...(cursor ? { cursor } : {}) }), `${applied}|${cursor ?? ''}`);
  const [error, act] = useAct();
  const [requeued, setRequeued] = useState<number | undefined>(undefined);
  const items = letters.data?.items ?? [];
  return (
    <>
      <h2>Notification dead letters</h2>
      <p>Notifications that ran out of attempts, oldest first. Requeueing sends them again: every page, of the endpoint filtered on or of every endpoint.</p>
      <form class="inline" onSubmit={(e) => { e.preventDefault(); setCursors([]); setApplied(endpoint); }}>
        <label for="deadletter-endpoint">Endpoint</label>
        <input id="deadletter-endpoint" value={endpoint} onInput={(e) => setEndpoint((e.target as HTMLInputElement).value)} />
        <button type="submit">Filter</button>
        <button type="button" class="secondary" disabled={items.length === 0} onClick={() => act(async () => setRequeued((await change.requeue(applied || undefined)).requeued), () => { setCursors([]); letters.reload(); })}>{applied ? `Requeue ${applied}` : 'Requeue all'}</button>
      </form>
      {requeued !== undefined && <p role="status">{requeued} requeued.</p>}
      <Status loading={letters.loading} error={letters.error}>
        {items.length === 0 ? <p class="muted">No notification is waiting here.</p> : (
          <table class="grid" data-testid="deadletters">
            <thead><tr><th scope="col">Endpoint</th><th scope="col">Event</th><th scope="col">Repository</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Given up</th></tr></thead>
            <tbody>{items.map((l) => (
              <tr><td>{l.endpoint}</td><td>{l.action} <span class="muted">{l.eventId}</span></td><td>{l.repository ?? '–'}</td><td>{l.attempts}</td><td>{l.lastError ?? '–'}</td><td>{l.deadAt ? when(l.deadAt) : '–'}</td></tr>
            ))}</tbody>
          </table>
        )}
        <Pager hasPrevious={cursors.length > 0} next={letters.data?.next ?? null} onPrevious={() => setCursors(cursors.slice(0, -1))} onNext={() => letters.data?.next && setCursors([...cursors, letters.data.next])} />
      </Status>
      {error && <p class="error" role="alert">{error}</p>}
    </>
  );
}
