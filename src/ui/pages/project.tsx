// A project: its repositories; for system administrators also its members, robot accounts and
// visibility (through the admin API, audited there), and a dry run of its retention rules.
import { useState } from 'preact/hooks';
import type { SessionView } from '../api.js';
import { change, read, useLoad } from '../data.js';
import { Link, href } from '../router.js';
import { age, bytes } from '../format.js';
import { Pager, Status } from '../components/bits.js';
import { RobotForm } from '../components/robot-form.js';
import { RetentionSettings } from '../components/retention-preview.js';

export function ProjectPage(props: { name: string; view: SessionView }) {
  const { name } = props;
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const repos = useLoad(() => read.repositories({ project: name, limit: 50, ...(cursor ? { cursor } : {}) }), `${name}|${cursor ?? ''}`);
  const admin = props.view.identity?.admin === true;
  return (
    <section>
      <h1>Project {name}</h1>
      <h2>Repositories</h2>
      <Status loading={repos.loading} error={repos.error}>
        <table class="grid">
          <thead><tr><th scope="col">Repository</th><th scope="col">Tags</th><th scope="col">Size</th><th scope="col">Last push</th></tr></thead>
          <tbody>{repos.data?.items.map((r) => (
            <tr><td><Link to={href(`repositories/${r.name}`)}>{r.name}</Link></td><td>{r.tags}</td><td>{bytes(r.sizeBytes)}</td><td>{age(r.lastPushAt)}</td></tr>
          ))}</tbody>
        </table>
        <Pager hasPrevious={cursors.length > 0} next={repos.data?.next ?? null} onPrevious={() => setCursors(cursors.slice(0, -1))} onNext={() => repos.data?.next && setCursors([...cursors, repos.data.next])} />
      </Status>
      {admin && <ProjectAdmin name={name} />}
      {(admin || props.view.mode === 'open') && <RetentionSettings project={name} />}
    </section>
  );
}

function ProjectAdmin(props: { name: string }) {
  const { name } = props;
  const projects = useLoad(() => read.projects(), 'projects');
  const members = useLoad(() => read.members(name), `members|${name}`);
  const [user, setUser] = useState('');
  const [role, setRole] = useState('developer');
  const [error, setError] = useState<string | undefined>(undefined);
  const project = projects.data?.find((p) => p.name === name);
  const act = async (fn: () => Promise<unknown>, after: () => void) => {
    setError(undefined);
    try { await fn(); after(); } catch (e) { setError((e as Error).message); }
  };
  return (
    <>
      <h2>Settings</h2>
      {project ? (
        <p>
          This project is <strong>{project.public ? 'public' : 'private'}</strong>.{' '}
          <button type="button" class="secondary" onClick={() => act(() => change.setProject(name, !project.public), projects.reload)}>
            Make it {project.public ? 'private' : 'public'}
          </button>
        </p>
      ) : projects.data && (
        <p>No project record yet: only administrators see its repositories.{' '}
          <button type="button" class="secondary" onClick={() => act(() => change.addProject(name, false), projects.reload)}>Create project {name}</button></p>
      )}
      <h2>Members</h2>
      <Status loading={members.loading} error={members.error}>
        <table class="grid">
          <thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>{members.data?.map((m) => (
            <tr><td>{m.user}</td><td>{m.role}</td><td><button type="button" class="secondary" onClick={() => act(() => change.setMember(name, m.user, null), members.reload)}>Remove {m.user}</button></td></tr>
          ))}</tbody>
        </table>
      </Status>
      <form class="inline" onSubmit={(e) => { e.preventDefault(); void act(() => change.setMember(name, user, role), () => { setUser(''); members.reload(); }); }}>
        <label for="member-user">User</label>
        <input id="member-user" required value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
        <label for="member-role">Role</label>
        <select id="member-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
          {['guest', 'developer', 'maintainer', 'admin'].map((r) => <option value={r}>{r}</option>)}
        </select>
        <button type="submit">Add member</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <h2>Robot accounts</h2>
      <RobotForm project={name} />
    </>
  );
}
