// `berth doctor REGISTRY [IMAGE]`: walks from DNS up to a blob read and through the local
// client configuration, and names every problem with why it matters and how to fix it.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { dockerConfigCredentials, parseCreds, parseImageReference, type Credentials } from '../client/index.js';
import { formatFinding, ok, skip, type Finding } from './doctor/finding.js';
import { checkDns, checkTcp, checkTls, target } from './doctor/network.js';
import { checkImage, checkLogin, checkV2, httpAsHttps } from './doctor/api.js';
import { checkContainerd, checkDocker, checkPodman } from './doctor/local.js';
import { ProxyRoutes, describeProxy, proxySettingsFromEnv } from '../client/proxy-env.js';

interface Flags {
  plainHttp?: boolean;
  insecure?: boolean;
  ca?: string;
  creds?: string;
  root: string;
  timeout: string;
  json?: boolean;
  local: boolean;
}

/** REGISTRY as `host[:port]`, `http://host[:port]` (plain HTTP) or `https://host[:port]`. */
export function parseRegistryArg(registry: string, plainHttp: boolean): { host: string; plainHttp: boolean } {
  const m = /^(https?):\/\/([^/]+)\/?$/i.exec(registry);
  if (!m) {
    if (/^[a-z]+:\/\//i.test(registry) || /\/./.test(registry.replace(/\/$/, ''))) throw new Error(`REGISTRY must be HOST[:PORT], http://HOST[:PORT] or https://HOST[:PORT], got "${registry}"`);
    return { host: registry.replace(/\/$/, ''), plainHttp };
  }
  if (m[1]!.toLowerCase() === 'https' && plainHttp) throw new Error(`${registry} says HTTPS, --plain-http says HTTP: give one`);
  return { host: m[2]!, plainHttp: plainHttp || m[1]!.toLowerCase() === 'http' };
}

export async function runDoctor(registry: string, image: string | undefined, flags: Flags): Promise<Finding[]> {
  const parsed = parseRegistryArg(registry, !!flags.plainHttp);
  const t = target(parsed.host, parsed.plainHttp, Number(flags.timeout));
  t.ca = flags.ca ? await readFile(flags.ca) : undefined;
  t.insecure = flags.insecure;
  const findings: Finding[] = [];
  const local = async (plainHttp: boolean, unknownCa: boolean) => {
    if (!flags.local) return;
    const ctx = { root: flags.root, host: t.host, hostname: t.hostname, plainHttp, unknownCa, timeoutMs: t.timeoutMs };
    findings.push(...await checkContainerd(ctx), ...await checkDocker(ctx), ...await checkPodman(ctx));
  };
  const proxy = new ProxyRoutes(proxySettingsFromEnv()).proxyFor(new URL(`${t.plainHttp ? 'http' : 'https'}://${t.host}/`));
  if (proxy) {
    // The proxy resolves the name and makes the connection: checking them from here tests a path no request takes.
    findings.push(ok('proxy', `requests to ${t.host} go through the proxy ${describeProxy(proxy)} (${t.plainHttp ? 'HTTP_PROXY' : 'HTTPS_PROXY'}; NO_PROXY lists hosts reached directly)`));
    findings.push(skip('network', 'DNS, TCP and TLS checks skipped: the proxy resolves and connects'));
  } else {
    const dns = await checkDns(t);
    findings.push(dns);
    if (dns.status === 'fail') return findings;
    const tcp = await checkTcp(t);
    findings.push(tcp);
    if (tcp.status === 'fail') {
      await local(t.plainHttp, false);
      return findings;
    }
  }
  if (!t.plainHttp && !proxy) {
    const tls = await checkTls(t);
    findings.push(...tls.findings);
    if (tls.notTls) {
      findings.push(httpAsHttps(t));
      // The rest (login, image) goes on over HTTP, so a wrong password is still found.
      t.plainHttp = true;
    }
  }
  const unknownCa = findings.some((f) => f.id === 'tls.unknown-ca');
  const v2 = await checkV2(t, proxy);
  findings.push(...v2.findings);
  if (v2.reachable) {
    const creds: Credentials | undefined = flags.creds ? parseCreds(flags.creds) : await dockerConfigCredentials()(t.host).catch(() => undefined);
    const login = await checkLogin(t, creds, v2.challenge);
    findings.push(...login);
    if (image) {
      const ref = parseImageReference(image.includes('/') && /[.:]/.test(image.split('/')[0]!) ? image : `${t.host}/${image}`);
      if (login.some((f) => f.status === 'fail')) findings.push(skip('image', `image checks skipped: login failed`));
      else findings.push(...await checkImage(t, creds, ref.repository, ref.digest ?? ref.tag ?? 'latest'));
    }
  }
  await local(t.plainHttp, unknownCa);
  return findings;
}

export function registerDoctorCommand(program: Command): void {
  program.command('doctor')
    .description('diagnose why clients cannot use a registry: DNS, TCP, TLS, HTTP(S), auth, an image, and local containerd/docker/podman configuration')
    .argument('<registry>', 'HOST[:PORT], http://HOST[:PORT] (plain HTTP) or https://HOST[:PORT]').argument('[image]', 'REPO[:TAG] to read a manifest and a blob range of')
    .option('--plain-http', 'the registry is expected to speak plain HTTP')
    .option('--insecure', 'do not fail on certificate problems (they are still reported)')
    .option('--ca <file>', 'CA certificate (PEM) to verify the registry with')
    .option('--creds <user:pass>', 'credentials to test (default: Docker\'s config.json)')
    .option('--root <dir>', 'where to look for /etc/containerd, /etc/docker, /etc/containers', '/')
    .option('--no-local', 'skip the local client configuration checks')
    .option('--timeout <ms>', 'per network step', '5000')
    .option('--json', 'print the findings as JSON')
    .action(async (registry: string, image: string | undefined, flags: Flags) => {
      try {
        const findings = await runDoctor(registry, image, flags);
        const failed = findings.some((f) => f.status === 'fail');
        if (flags.json) process.stdout.write(`${JSON.stringify({ registry, image, ok: !failed, findings }, null, 2)}\n`);
        else {
          for (const f of findings) process.stdout.write(`${formatFinding(f)}\n`);
          process.stdout.write(failed ? `\n${findings.filter((f) => f.status === 'fail').length} problem(s) found\n` : '\nno problems found\n');
        }
        process.exitCode = failed ? 1 : 0;
      } catch (err) {
        process.stderr.write(`berth: ${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}
