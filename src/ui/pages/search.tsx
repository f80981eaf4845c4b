// Search results: repositories whose name contains the text.
import { useState } from 'preact/hooks';
import { read, useLoad } from '../data.js';
import { Link, href } from '../router.js';
import { age, bytes } from '../format.js';
import { Pager, Status } from '../components/bits.js';

export function Search(props: { q: string }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const result = useLoad(() => read.repositories({ q: props.q, limit: 50, ...(cursor ? { cursor } : {}) }), `${props.q}|${cursor ?? ''}`);
  return (
    <section>
      <h1>Repositories matching “{props.q}”</h1>
      <Status loading={result.loading} error={result.error}>
        {result.data?.items.length === 0 ? <p>No repository matches.</p> : (
          <ul class="results">
            {result.data?.items.map((r) => <li><Link to={href(`repositories/${r.name}`)}>{r.name}</Link> <span class="muted">{r.tags} tags · {bytes(r.sizeBytes)} · {age(r.lastPushAt)}</span></li>)}
          </ul>
        )}
        <Pager hasPrevious={cursors.length > 0} next={result.data?.next ?? null} onPrevious={() => setCursors(cursors.slice(0, -1))} onNext={() => result.data?.next && setCursors([...cursors, result.data.next])} />
      </Status>
    </section>
  );
}
