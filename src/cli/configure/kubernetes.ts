// Kubernetes: an image pull Secret (kubernetes.io/dockerconfigjson) for a registry account,
// printed for `kubectl apply -f -`; nothing is written.
import { parseCreds } from '../../client/index.js';

export function pullSecret(registry: string, creds: string, name: string, namespace: string | undefined): string {
  const { username, password } = parseCreds(creds);
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  const dockerConfig = JSON.stringify({ auths: { [registry]: { username, password, auth } } });
  return [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${name}`,
    ...(namespace ? [`  namespace: ${namespace}`] : []),
    'type: kubernetes.io/dockerconfigjson',
    'data:',
    `  .dockerconfigjson: ${Buffer.from(dockerConfig).toString('base64')}`,
    '',
  ].join('\n');
}
