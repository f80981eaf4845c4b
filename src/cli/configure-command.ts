// `berth configure containerd|docker|podman|kubernetes`: makes a container client trust and
// use a registry (or mirror) by writing its configuration files, with --dry-run showing the diff.
import type { Command } from 'commander';
import { speaksOnlyHttp } from '../client/index.js';
import { applyPlan, planDiff, type Plan } from './configure/plan.js';
import { parseRegistry, type ConfigureOptions } from './configure/options.js';
import { containerdPlan } from './configure/containerd.js';
import { dockerPlan } from './configure/docker.js';
import { podmanPlan } from './configure/podman.js';
import { pullSecret } from './configure/kubernetes.js';

interface Flags {
  registry: string;
  mirrorOf?: string;
  insecure?: boolean;
  plainHttp?: boolean;
  ca?: string;
  clientCert?: string;
  clientKey?: string;
  root: string;
  maxConcurrentDownloads?: string;
  dryRun?: boolean;
  creds?: string;
  name: string;
  namespace?: string;
  json?: boolean;
}

// How each client reaches a Berth upstream that lives under a project prefix; the same
// sentences are checked by test/tools/configure.test.ts, so they are the documented contract.
const MIRROR_HELP = `
Berth as a pull-through mirror (--mirror-of docker.io) of an upstream named "dockerhub":
  podman      --registry HOST:PORT/dockerhub   the mirror location carries the prefix
  containerd  --registry HOST:PORT             containerd adds ?ns=docker.io to every request;
              Berth routes it to the upstream whose namespaces list docker.io, so no prefix is
              needed (one given is left out of hosts.toml, with a note)
  docker      --registry HOST:PORT             registry-mirrors cannot carry a path: Berth sends
              these pulls to its root upstream (root: true in the upstream's config)
`;

const PLANS: Record<string, (o: ConfigureOptions & { creds?: string | undefined }) => Promise<Plan>> = { containerd: containerdPlan, docker: dockerPlan, podman: podmanPlan };

export function registerConfigureCommand(program: Command): void {
  program.command('configure')
    .description('configure a container client to use a registry: containerd, docker, podman, or kubernetes (prints a pull Secret)')
    .argument('<client>', 'containerd | docker | podman | kubernetes')
    .requiredOption('--registry <host[:port][/prefix]>', 'the registry (or mirror) to use; /prefix: the Berth upstream the mirror\'s names go under (see below)')
    .option('--mirror-of <registry>', 'use the registry as a pull-through mirror of this one (docker.io)')
    .option('--insecure', 'the registry speaks plain HTTP or has a certificate nobody can verify')
    .option('--plain-http', 'the registry speaks plain HTTP (default with --insecure: detected)')
    .option('--ca <file>', 'CA certificate (PEM) that signed the registry\'s certificate')
    .option('--client-cert <file>', 'client certificate for mutual TLS')
    .option('--client-key <file>', 'client key for mutual TLS')
    .option('--root <dir>', 'prefix for every file written (a chroot, an image, a test)', '/')
    .option('--max-concurrent-downloads <n>', 'layer downloads at once (containerd, docker)')
    .option('--dry-run', 'print the change as a diff and write nothing')
    .option('--creds <user:pass>', 'kubernetes: the account the Secret holds; containerd: the CRI plugin\'s credentials for the registry (config.toml registry.configs."<host>".auth)')
    .option('--name <name>', 'kubernetes: the Secret\'s name', 'berth-pull')
    .option('--namespace <ns>', 'kubernetes: the Secret\'s namespace')
    .option('--json', 'print what was (or would be) written as JSON')
    .addHelpText('after', MIRROR_HELP)
    .action(async (client: string, flags: Flags) => {
      try {
        await configure(client, flags);
      } catch (err) {
        process.stderr.write(`berth: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

async function configure(client: string, flags: Flags): Promise<void> {
  const { host, prefix } = parseRegistry(flags.registry);
  if (client === 'kubernetes') {
    if (prefix) throw new Error(`configure kubernetes: a pull Secret is for a host; give --registry ${host} (it covers ${host}/${prefix}/...)`);
    if (!flags.creds) throw new Error('configure kubernetes needs --creds USER:PASSWORD (a robot account)');
    process.stdout.write(pullSecret(host, flags.creds, flags.name, flags.namespace));
    return;
  }
  const planFor = PLANS[client];
  if (!planFor) throw new Error(`unknown client "${client}" (containerd, docker, podman, kubernetes)`);
  if (flags.creds && client !== 'containerd') {
    throw new Error(`--creds is for containerd (CRI credentials) and kubernetes (a pull Secret); ${client} keeps credentials from its own login: ${client} login ${host}`);
  }
  if (prefix && !flags.mirrorOf) {
    throw new Error(`--registry ${flags.registry}: /${prefix} is where a mirror's names go, so it needs --mirror-of (e.g. docker.io); to pull from that project directly, name it in the image: ${host}/${prefix}/IMAGE`);
  }
  const plainHttp = flags.plainHttp ?? (flags.insecure ? await speaksOnlyHttp(host) : false);
  const plan = await planFor({
    registry: host, prefix, mirrorOf: flags.mirrorOf, insecure: flags.insecure, plainHttp, ca: flags.ca,
    clientCert: flags.clientCert, clientKey: flags.clientKey, root: flags.root, creds: flags.creds,
    maxConcurrentDownloads: flags.maxConcurrentDownloads ? Number(flags.maxConcurrentDownloads) : undefined,
  });
  if (flags.dryRun) {
    const diff = await planDiff(plan);
    if (flags.json) process.stdout.write(`${JSON.stringify({ dryRun: true, diff, restart: plan.restart, notes: plan.notes })}\n`);
    else process.stdout.write(diff || 'nothing to change\n');
    return;
  }
  const { written, backups } = await applyPlan(plan);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ written, backups, restart: written.length ? plan.restart : [], notes: plan.notes })}\n`);
    return;
  }
  for (const w of written) process.stdout.write(`wrote ${w}\n`);
  for (const b of backups) process.stdout.write(`backup ${b}\n`);
  if (written.length === 0) process.stdout.write('nothing to change\n');
  else for (const r of plan.restart) process.stdout.write(`next: ${r}\n`);
  for (const n of plan.notes) process.stdout.write(`note: ${n}\n`);
}
