// Creating a robot account for a project: its secret is shown once, here, and never again.
import { useState } from 'preact/hooks';
import { change } from '../data.js';

export function RobotForm(props: { project: string; onCreated?: () => void }) {
  const [name, setName] = useState('');
  const [actions, setActions] = useState<string[]>(['pull']);
  const [created, setCreated] = useState<{ name: string; secret: string } | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const robot = await change.addRobot(`${props.project}-${name}`, props.project, actions);
      setCreated({ name: robot.name, secret: robot.secret });
      setName('');
      props.onCreated?.();
    } catch (err) { setError((err as Error).message); }
  };
  const flip = (a: string) => setActions(actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a]);
  return (
    <>
      <form class="inline" onSubmit={submit}>
        <label for="robot-name">Robot name</label>
        <input id="robot-name" required pattern="[a-z0-9]+([._-][a-z0-9]+)*" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <fieldset>
          <legend>Actions</legend>
          {['pull', 'push', 'delete'].map((a) => (
            <label><input type="checkbox" checked={actions.includes(a)} onChange={() => flip(a)} /> {a}</label>
          ))}
        </fieldset>
        <button type="submit">Create robot</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {created && (
        <div class="notice" role="status">
          <p>Robot <code>{created.name}</code> created. Its secret is shown this once:</p>
          <p><code data-testid="robot-secret">{created.secret}</code></p>
        </div>
      )}
    </>
  );
}
