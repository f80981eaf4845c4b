// Copy-the-pull-command: for a tag or a digest, the command each common client needs, with the
// flag it wants for a registry reached over plain HTTP.
import { useState } from 'preact/hooks';

export const CLIENTS = ['docker', 'podman', 'nerdctl', 'ctr', 'crane', 'berth'] as const;
export type Client = typeof CLIENTS[number];

export function pullCommand(client: Client, host: string, repository: string, reference: string, plainHttp: boolean): string {
  const ref = `${host}/${repository}${reference.includes(':') ? '@' : ':'}${reference}`;
  const local = repository.split('/').pop() ?? repository;
  switch (client) {
    case 'docker': return `docker pull ${ref}`;
    case 'podman': return `podman pull ${plainHttp ? '--tls-verify=false ' : ''}${ref}`;
    case 'nerdctl': return `nerdctl pull ${plainHttp ? '--insecure-registry ' : ''}${ref}`;
    case 'ctr': return `ctr images pull ${plainHttp ? '--plain-http ' : ''}${ref}`;
    case 'crane': return `crane pull ${plainHttp ? '--insecure ' : ''}${ref} ${local}.tar`;
    case 'berth': return `berth copy ${plainHttp ? '--src-plain-http ' : ''}docker://${ref} oci:./${local}:${reference.includes(':') ? 'latest' : reference}`;
  }
}

export function PullCommand(props: { repository: string; reference: string; label?: string }) {
  const [client, setClient] = useState<Client>('docker');
  const [copied, setCopied] = useState(false);
  const plainHttp = location.protocol === 'http:';
  const command = pullCommand(client, location.host, props.repository, props.reference, plainHttp);
  const copy = async () => {
    await navigator.clipboard.writeText(command).catch(() => undefined);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  const id = `pull-${props.reference.replace(/[^A-Za-z0-9]/g, '')}`;
  return (
    <div class="pull">
      <label for={id} class="visually-hidden">Client for {props.label ?? props.reference}</label>
      <select id={id} value={client} onChange={(e) => setClient((e.target as HTMLSelectElement).value as Client)}>
        {CLIENTS.map((c) => <option value={c}>{c === 'berth' ? 'berth copy' : c}</option>)}
      </select>
      <code class="pull-command" data-client={client}>{command}</code>
      <button type="button" class="secondary" onClick={copy} aria-label={`Copy the ${client} pull command for ${props.label ?? props.reference}`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
      <span class="visually-hidden" role="status">{copied ? 'Copied to the clipboard' : ''}</span>
    </div>
  );
}
