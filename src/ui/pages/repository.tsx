// A repository: its tags and artifacts with platforms, size, age, last pull and signatures;
// sort, filter and pages; copy-the-pull-command; bulk delete with a preview of what it frees.
import { useEffect, useState } from 'preact/hooks';
import { call, ROOT, type SessionView } from '../api.js';
import { read, useLoad, type ArtifactSummary } from '../data.js';
import { Link, href } from '../router.js';
import { age, bytes, shortDigest } from '../format.js';
import { Pager, PlatformChips, SignedBadge, Status } from '../components/bits.js';
import { PullCommand } from '../components/pull-command.js';
import { DeleteDialog } from '../components/delete-dialog.js';

export function RepositoryPage(props: { name: string; view: SessionView }) {
  const { name } = props;
  const [tag, setTag] = useState('');
  const [sort, setSort] = useState('pushed');
  const [order, setOrder] = useState('desc');
  const [limit, setLimit] = useState(25);
  const [cursors, setCursors] = useState<string[]>([]);
  const [selected, setSelected] = useState<Map<string, ArtifactSummary>>(new Map());
  const [deleting, setDeleting] = useState(false);
  const cursor = cursors[cursors.length - 1];
  const summary = useLoad(() => read.repository(name), name);
  const access = useLoad(() => call<{ actions: string[] }>(`${ROOT}auth/access`, { query: { repository: name } }), name);
  const key = [name, tag, sort, order, limit, cursor ?? ''].join('|');
  const list = useLoad(() => read.artifacts(name, { tag, sort, order, limit, tagged: true, ...(cursor ? { cursor } : {}) }), key);
  useEffect(() => setCursors([]), [tag, sort, order, limit]);
  const canDelete = access.data?.actions.includes('delete') === true;
  const toggle = (a: ArtifactSummary) => {
    const next = new Map(selected);
    if (next.has(a.digest)) next.delete(a.digest);
    else next.set(a.digest, a);
    setSelected(next);
  };
  const s = summary.data;
  return (
    <section>
      <p class="crumbs"><Link to={href(`projects/${name.split('/')[0]}`)}>{name.split('/')[0]}</Link> /</p>
      <h1>{name}</h1>
      <Status loading={summary.loading} error={summary.error}>
        {s && <p class="facts"><span>{s.tags} tags</span><span>{s.artifacts} artifacts</span><span data-testid="repository-size">{bytes(s.sizeBytes)}</span><span>last push {age(s.lastPushAt)}</span></p>}
      </Status>
      <div class="toolbar">
        <label for="tag-filter">Filter tags</label>
        <input id="tag-filter" type="search" value={tag} onInput={(e) => setTag((e.target as HTMLInputElement).value)} placeholder="part of a tag" />
        <label for="sort">Sort by</label>
        <select id="sort" value={`${sort}:${order}`} onChange={(e) => { const [a, b] = (e.target as HTMLSelectElement).value.split(':'); setSort(a!); setOrder(b!); }}>
          <option value="pushed:desc">newest push first</option>
          <option value="pushed:asc">oldest push first</option>
          <option value="name:asc">tag name A–Z</option>
          <option value="name:desc">tag name Z–A</option>
        </select>
        <label for="page-size">Per page</label>
        <select id="page-size" value={String(limit)} onChange={(e) => setLimit(Number((e.target as HTMLSelectElement).value))}>
          {[10, 25, 50, 100].map((n) => <option value={String(n)}>{n}</option>)}
        </select>
        {canDelete && (
          <button type="button" class="danger" disabled={selected.size === 0} onClick={() => setDeleting(true)}>
            Delete selected ({selected.size})
          </button>
        )}
      </div>
      <Status loading={list.loading && !list.data} error={list.error}>
        <table class="grid tags">
          <caption class="visually-hidden">Tags of {name}</caption>
          <thead>
            <tr>
              {canDelete && <th scope="col"><span class="visually-hidden">Select</span></th>}
              <th scope="col">Tags</th><th scope="col">Digest</th><th scope="col">Platforms</th><th scope="col">Size</th>
              <th scope="col">Pushed</th><th scope="col">Last pull</th><th scope="col">Signed</th><th scope="col">Pull</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((a) => {
              const label = a.tags[0] ?? shortDigest(a.digest);
              return (
                <tr data-digest={a.digest}>
                  {canDelete && <td><input type="checkbox" aria-label={`Select ${label}`} checked={selected.has(a.digest)} onChange={() => toggle(a)} /></td>}
                  <td>{a.tags.map((t) => <Link to={href(`repositories/${name}@${a.digest}`)} class="tag">{t}</Link>)}</td>
                  <td><code title={a.digest}>{shortDigest(a.digest)}</code></td>
                  <td><PlatformChips platforms={a.platforms} /></td>
                  <td class="num" data-testid="size">{bytes(a.sizeBytes)}</td>
                  <td>{age(a.pushedAt)}</td>
                  <td>{age(a.lastPulledAt)}</td>
                  <td><SignedBadge referrers={a.referrers} /></td>
                  <td>
                    <details class="pull-details">
                      <summary>Pull {label}</summary>
                      <PullCommand repository={name} reference={a.tags[0] ?? a.digest} label={label} />
                      <PullCommand repository={name} reference={a.digest} label={`${label} by digest`} />
                    </details>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {list.data?.items.length === 0 && <p class="muted">No tags{tag ? ` containing “${tag}”` : ''}.</p>}
        <Pager hasPrevious={cursors.length > 0} next={list.data?.next ?? null}
          onPrevious={() => setCursors(cursors.slice(0, -1))} onNext={() => list.data?.next && setCursors([...cursors, list.data.next])} />
      </Status>
      {deleting && (
        <DeleteDialog repository={name} artifacts={[...selected.values()]}
          onClose={(deleted) => { setDeleting(false); if (deleted) { setSelected(new Map()); list.reload(); summary.reload(); } }} />
      )}
    </section>
  );
}
