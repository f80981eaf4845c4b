// A real OpenID provider (the `oidc-provider` package, OpenID certified) in a child process of
// its own, for the OIDC tests: it listens on 127.0.0.1 (an ephemeral port), prints
// {"issuer": ...} on its first line, and serves one confidential client. Accounts (claims by
// account id) are read from a JSON file on every lookup, so a test changes a user's groups by
// rewriting it. Its development interactions sign in whoever is named (no password): the test
// drives them with plain HTTP requests.
// Usage: node oidc-provider-main.js ACCOUNTS_FILE CLIENT_JSON
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

type ProviderClass = new (issuer: string, config: Record<string, unknown>) => { callback(): (req: unknown, res: unknown) => void };

const [accountsFile, clientJson] = process.argv.slice(2);
if (!accountsFile || !clientJson) throw new Error('usage: oidc-provider-main ACCOUNTS_FILE CLIENT_JSON');
// No type declarations ship with oidc-provider: the module name goes through a variable.
const moduleName = 'oidc-provider';
const { default: Provider } = await import(moduleName) as { default: ProviderClass };
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const provider = new Provider(issuer, {
  clients: [JSON.parse(clientJson) as Record<string, unknown>],
  findAccount: (_ctx: unknown, id: string) => {
    const accounts = JSON.parse(readFileSync(accountsFile, 'utf8')) as Record<string, Record<string, unknown>>;
    const claims = accounts[id];
    return claims ? { accountId: id, claims: () => ({ sub: id, ...claims }) } : undefined;
  },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email', 'email_verified'], groups: ['groups'] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  cookies: { keys: ['berth-test-cookie-key'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
});
server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
