// `berth sign` and `berth verify`: cosign-compatible signing for teams without cosign, and the
// verdict content trust would give an image, computed here from the registry's signatures with
// the keys, roots and trust stores named on the command line.
import type { Command } from 'commander';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCreds, parseImageReference, manifestReference, type ImageReference } from '../client/index.js';
import { registryClient, type SideOptions } from '../transport/open.js';
import { pushCosignSignature } from '../trust/sign.js';
import { TrustPolicies } from '../trust/policies.js';
import { judge, whyUnverified } from '../trust/verdict.js';
import { ClientSignatureSource } from '../trust/client-source.js';

interface ConnectionFlags { creds?: string; plainHttp?: boolean; insecure?: boolean; ca?: string }

function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--creds <user:pass>', 'registry credentials (default: docker\'s config.json)')
    .option('--plain-http', 'speak HTTP (default: HTTPS; loopback registries without TLS are detected)')
    .option('--insecure', 'HTTPS without certificate verification')
    .option('--ca <file>', 'PEM CA bundle to trust');
}

function side(f: ConnectionFlags): SideOptions {
  return { creds: f.creds ? parseCreds(f.creds) : undefined, plainHttp: f.plainHttp, insecure: f.insecure, caFile: f.ca };
}

/** The image and its digest (a tag is resolved once, so signing and verifying name one manifest). */
async function open(image: string, flags: ConnectionFlags) {
  const ref: ImageReference = parseImageReference(image);
  const client = await registryClient(ref.host, side(flags));
  const head = await client.headManifest(ref.repository, manifestReference(ref));
  const digest = ref.digest ?? head?.digest;
  if (!head || !digest) {
    await client.close();
    throw new Error(`${image}: no such manifest`);
  }
  return { ref, client, digest };
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerTrustCommands(program: Command, guard: (run: () => Promise<void>) => Promise<void>): void {
  connectionOptions(program.command('sign')
    .description('sign an image with a cosign-compatible signature (tag sha256-<hex>.sig, or a referrer)')
    .argument('<image>', 'HOST/REPO:TAG or HOST/REPO@DIGEST')
    .requiredOption('--key <file>', 'PEM private key (ECDSA, RSA or Ed25519; unencrypted)')
    .option('--referrers', 'store the signature as an OCI 1.1 referrer instead of under the .sig tag'))
    .action((image: string, flags: ConnectionFlags & { key: string; referrers?: boolean }) => guard(() => failing(async () => {
      const key = createPrivateKey(readFileSync(flags.key));
      const { ref, client, digest } = await open(image, flags);
      try {
        const where = await pushCosignSignature(client, ref.repository, digest, key, { referrers: !!flags.referrers });
        process.stdout.write(`signed ${ref.host}/${ref.repository}@${digest} (${flags.referrers ? `referrer ${where}` : `tag ${where}`})\n`);
      } finally {
        await client.close();
      }
    })));

  connectionOptions(program.command('verify')
    .description('check an image\'s signatures (cosign, Sigstore bundles, Notation) and print the verdict; exit 1 when none is accepted')
    .argument('<image>', 'HOST/REPO:TAG or HOST/REPO@DIGEST')
    .option('--key <file>', 'cosign public key (PEM); repeatable', collect, [])
    .option('--certificate-root <file>', 'root certificates cosign certificates must chain to; repeatable', collect, [])
    .option('--identity <subject>', 'accepted certificate subject (glob); repeatable', collect, [])
    .option('--issuer <url>', 'accepted OIDC issuer of those identities')
    .option('--rekor-key <file>', 'Rekor public key: check cosign Rekor bundles')
    .option('--trusted-root <file>', 'Sigstore trusted_root.json for Sigstore bundles')
    .option('--notation-truststore <dir>', 'x509 trust store for Notation signatures')
    .option('--notation-identity <x509.subject>', 'trusted Notation identity; repeatable (default: any)', collect, [])
    .option('--json', 'print the verdict as JSON'))
    .action((image: string, flags: ConnectionFlags & VerifyFlags) => guard(() => failing(async () => {
      const identities = flags.identity.map((subject) => ({ subject, issuer: flags.issuer }));
      const [policy] = new TrustPolicies([{
        name: 'command-line', repositories: ['*'], mode: 'enforce', exempt: [], keys: flags.key,
        ...(flags.certificateRoot.length > 0 ? { certificates: { roots: flags.certificateRoot, identities } } : {}),
        ...(flags.rekorKey ? { rekorkey: flags.rekorKey } : {}),
        ...(flags.trustedRoot ? { sigstore: { trustedroot: flags.trustedRoot, identities, tlogthreshold: 1 } } : {}),
        ...(flags.notationTruststore ? { notation: { truststore: flags.notationTruststore, identities: flags.notationIdentity.length > 0 ? flags.notationIdentity : ['*'] } } : {}),
      }]).all;
      if (!policy!.satisfiedBy) throw new Error('name what to verify against: --key, --certificate-root, --trusted-root or --notation-truststore');
      const { ref, client, digest } = await open(image, flags);
      try {
        const verdict = await judge(new ClientSignatureSource(client), ref.repository, digest, policy!);
        if (flags.json) process.stdout.write(`${JSON.stringify(verdict)}\n`);
        else if (verdict.verified) process.stdout.write(`verified ${ref.host}/${ref.repository}@${digest}: ${verdict.signer!.kind} signature (${verdict.signer!.via}) by ${verdict.signer!.by}\n`);
        else process.stdout.write(`NOT verified ${ref.host}/${ref.repository}@${digest}: ${whyUnverified(verdict)}\n`);
        if (!verdict.verified) process.exitCode = 1;
      } finally {
        await client.close();
      }
    })));
}

interface VerifyFlags {
  key: string[]; certificateRoot: string[]; identity: string[]; issuer?: string; rekorKey?: string;
  trustedRoot?: string; notationTruststore?: string; notationIdentity: string[]; json?: boolean;
}

/** A failure is one line on stderr and exit status 2 (1 means "not verified"). */
async function failing(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    process.stderr.write(`berth: ${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
