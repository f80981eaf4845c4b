// A project's retention and immutable-tag rules: the ones config.yml sets (gc.retention.projects)
// and a draft to try, each judged by a dry run on the server (/api/v1/retention/<project>) that
// lists what it would untag and what collecting the manifests left untagged would free. The
// rules live in config.yml, so the draft is shown as the YAML to put there; nothing is changed.
import { useState } from 'preact/hooks';
import { read, useLoad, type RetentionDraft, type RetentionPreview } from '../data.js';
import { Link, href } from '../router.js';
import { age, bytes } from '../format.js';
import { Status } from './bits.js';

const HOUR = 3_600_000;

export function RetentionSettings(props: { project: string }) {
  const { project } = props;
  const current = useLoad(() => read.retention(project), `retention|${project}`);
  const [draft, setDraft] = useState<RetentionDraft | undefined>(undefined);
  const [tried, setTried] = useState<RetentionDraft | undefined>(undefined);
  const trial = useLoad(() => (tried ? read.retention(project, tried) : Promise.resolve(undefined)), `trial|${project}|${JSON.stringify(tried)}`);
  const p = current.data?.policy;
  const form = draft ?? (p ? {
    keeplast: p.keeplast === null ? '' : String(p.keeplast), keeptags: p.keeptags.join(', '),
    deleteolderthan: p.deleteolderthan === null ? '' : String(Math.round(p.deleteolderthan / HOUR / 24)), immutabletags: p.immutabletags.join(', '),
  } : undefined);
  const field = (key: keyof RetentionDraft, label: string, hint: string) => (
    <>
      <label for={`retention-${key}`}>{label}</label>
      <input id={`retention-${key}`} aria-describedby={`retention-${key}-hint`} value={form?.[key] ?? ''} inputMode={key === 'keeplast' || key === 'deleteolderthan' ? 'numeric' : 'text'}
        onInput={(e) => setDraft({ ...form, [key]: (e.target as HTMLInputElement).value })} />
      <span id={`retention-${key}-hint`} class="muted">{hint}</span>
    </>
  );
  const submit = (e: Event) => {
    e.preventDefault();
    if (!form) return;
    const days = form.deleteolderthan?.trim();
    setTried({ ...form, deleteolderthan: days ? `${Number(days) * 24}h` : '' });
  };
  return (
    <>
      <h2>Retention and immutability</h2>
      <Status loading={current.loading} error={current.error}>
        <p>{current.data?.configured
          ? <>config.yml sets rules for this project. Dry run of those rules:</>
          : <>config.yml sets no rules for this project (<code>gc.retention.projects.{project}</code>): nothing is deleted or protected.</>}</p>
        {current.data?.configured && <Judgement preview={current.data} testid="retention-current" />}
        <form class="stack" onSubmit={submit} aria-labelledby="retention-try">
          <h3 id="retention-try">Try other rules</h3>
          <div class="fields">
            {field('keeplast', 'Keep the newest', 'tags per repository; empty: no count rule')}
            {field('deleteolderthan', 'Delete tags older than', 'days since the tag was pushed; empty: no age rule')}
            {field('keeptags', 'Always keep tags matching', 'globs, comma-separated: latest, v*')}
            {field('immutabletags', 'Immutable tags', 'globs nobody may overwrite or delete: release-*')}
          </div>
          <button type="submit">Preview what these rules would delete</button>
        </form>
        {tried && (
          <Status loading={trial.loading} error={trial.error}>
            {trial.data && <><Judgement preview={trial.data} testid="retention-draft" /><Yaml project={project} preview={trial.data} /></>}
          </Status>
        )}
      </Status>
    </>
  );
}

function Judgement(props: { preview: RetentionPreview; testid: string }) {
  const { preview } = props;
  const deleted = preview.decisions.filter((d) => d.action === 'delete');
  return (
    <div data-testid={props.testid}>
      <p role="status" data-deletes={preview.deletes} data-freed={preview.freedBytes ?? ''}>
        {preview.deletes === 0 ? 'Deletes no tag.' : <>Would untag <strong>{preview.deletes}</strong> of {preview.decisions.length} tags, leaving {preview.untaggedManifests} manifest{preview.untaggedManifests === 1 ? '' : 's'} untagged;
          collecting those (<code>gc.untagged: delete</code> or <code>berth gc --delete-untagged</code>) frees <strong>{preview.freedBytes === null ? 'an unknown amount' : bytes(preview.freedBytes)}</strong>.</>}
      </p>
      {preview.decisions.length > 0 && (
        <table class="grid">
          <caption class="visually-hidden">Tags judged by the rules</caption>
          <thead><tr><th scope="col">Repository</th><th scope="col">Tag</th><th scope="col">Pushed</th><th scope="col">Verdict</th><th scope="col">Why</th></tr></thead>
          <tbody>{[...deleted, ...preview.decisions.filter((d) => d.action === 'keep')].slice(0, 200).map((d) => (
            <tr><td>{d.repository}</td><td><Link to={href(`repositories/${d.repository}@${d.digest}`)}>{d.tag}</Link></td><td>{age(d.pushedAt)}</td>
              <td><span class={`badge ${d.action === 'delete' ? 'warn' : 'ok'}`}>{d.action}</span></td><td>{d.reason}</td></tr>
          ))}</tbody>
        </table>
      )}
    </div>
  );
}

function Yaml(props: { project: string; preview: RetentionPreview }) {
  const p = props.preview.policy;
  const lines = [`gc:`, `  retention:`, `    projects:`, `      ${props.project}:`];
  if (p.keeplast !== null) lines.push(`        keeplast: ${p.keeplast}`);
  if (p.deleteolderthan !== null) lines.push(`        deleteolderthan: ${Math.round(p.deleteolderthan / HOUR)}h`);
  if (p.keeptags.length > 0) lines.push(`        keeptags: [${p.keeptags.map((t) => JSON.stringify(t)).join(', ')}]`);
  if (p.immutabletags.length > 0) lines.push(`        immutabletags: [${p.immutabletags.map((t) => JSON.stringify(t)).join(', ')}]`);
  return (
    <>
      <p>To apply these rules, put them in config.yml and restart (<code>gc.retention.interval</code> runs them; <code>berth retention --dry-run</code> shows the same verdicts):</p>
      <pre class="json" data-testid="retention-yaml">{lines.join('\n')}</pre>
    </>
  );
}
