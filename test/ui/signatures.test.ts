// An artifact's signatures in the console (Debian's Chromium), each shown with its signer: an
// image signed by the `notation` CLI and the signature manifest notation pushed, and a Sigstore
// bundle made by `cosign attest`, both published by their projects (test/trust/fixtures) and
// pushed byte for byte; and a cosign key signature under the `.sig` tag, signed with openssl
// as `cosign sign --key` signs. No Debian client can attach one: Debian builds skopeo, podman
// and buildah with sigstore signing disabled, and packages neither cosign, notation nor oras
// (/work/notes/skopeo-sigstore.md). Trust policies cover all three repositories (audit mode), so
// the page also shows each policy's verdict; axe-core finds nothing serious.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, sha256, DOCKER_MANIFEST, OCI_MANIFEST } from '../support/oci-fixtures.js';
import { pushBlob, pushImage, pushManifest } from '../support/push.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { cosignLayer, opensslSign, pushBundle, pushCosign, simpleSigning } from '../trust/support/fixtures.js';
import { FIXTURES, NOTATION, asManifest, fixture } from '../trust/support/published.js';
import { browserMissing, launch, openTab, screenshot, seriousViolations } from './support/browser.js';

const skip = browserMissing();
const EMPTY_CONFIG = Buffer.from('{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":null},"config":{}}');

describe('an artifact\'s signatures and their signers in Chromium', { skip }, () => {
  let reg: TestRegistry;
  let browser: Browser;
  let dir: string;
  let keyFile: string;
  before(async () => {
    [browser, dir] = await Promise.all([launch(), tempDir('ui-signatures')]);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keyFile = join(dir, 'cosign.key');
    await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(join(dir, 'cosign.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    reg = await startTestRegistry({
      configure: (c) => {
        c.trust.policies = [
          { name: 'notary', repositories: ['notary/*'], mode: 'audit', keys: [], notation: { truststore: join(FIXTURES, 'notation/truststore'), identities: ['x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=e2e'] }, exempt: [] },
          { name: 'bundles', repositories: ['bundles/*'], mode: 'audit', keys: [], sigstore: { trustedroot: join(FIXTURES, 'cosign-v3/trusted_root.json'), identities: [{ subject: 'cody@soyland.com', issuer: 'https://github.com/login/oauth' }], tlogthreshold: 1 }, exempt: [] },
          { name: 'keyed', repositories: ['keyed/*'], mode: 'audit', keys: [join(dir, 'cosign.pub')], exempt: [] },
        ];
      },
    });
  });
  after(async () => {
    await browser?.close();
    await reg?.close();
    await removeDir(dir);
  });

  async function signatureRows(path: string, name: string) {
    const tab = await openTab(browser);
    const { page } = tab;
    await page.goto(`${reg.url}/ui/repositories/${path}`);
    const table = page.getByTestId('signatures');
    await table.waitFor();
    const rows = await Promise.all((await table.locator('tbody tr').all()).map((r) => r.getByRole('cell').allTextContents()));
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, name);
    assert.deepEqual(tab.problems, []);
    return { tab, rows };
  }

  it('shows the notation CLI\'s signature with its certificate\'s subject, accepted by the policy', async () => {
    for (const b of [NOTATION.config, NOTATION.layer, NOTATION.envelope]) assert.equal((await pushBlob(reg.url, 'notary/e2e', blob(b))).status, 201);
    assert.equal((await pushManifest(reg.url, 'notary/e2e', 'v1', asManifest(NOTATION.image, OCI_MANIFEST))).status, 201);
    assert.equal((await pushManifest(reg.url, 'notary/e2e', sha256(NOTATION.signatureManifest), asManifest(NOTATION.signatureManifest, OCI_MANIFEST))).status, 201);
    const { tab, rows } = await signatureRows(`notary/e2e@${sha256(NOTATION.image)}`, 'artifact-signature-notation');
    assert.deepEqual(rows, [['Notation signature', 'CN=e2e, O=Notary, L=Seattle, ST=WA, C=US', `${sha256(NOTATION.signatureManifest).slice(0, 19)} (referrer)`, 'accepted']]);
    const tree = await tab.page.getByTestId('referrers').locator('li').first().textContent();
    assert.match(tree ?? '', /^signature .*signed by CN=e2e, O=Notary, L=Seattle, ST=WA, C=US$/);
    await tab.context.close();
  });

  it('shows cosign attest\'s Sigstore bundle with its keyless identity and issuer', async () => {
    const config = blob(EMPTY_CONFIG);
    assert.equal((await pushBlob(reg.url, 'bundles/empty', config)).status, 201);
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.size, digest: config.digest }, layers: [] }));
    const empty = asManifest(body, DOCKER_MANIFEST);
    assert.equal(empty.digest, 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4', 'go-containerregistry\'s empty image, which the bundle names');
    assert.equal((await pushManifest(reg.url, 'bundles/empty', 'v1', empty)).status, 201);
    const sig = await pushBundle(reg.url, 'bundles/empty', empty, fixture('cosign-v3/oci-attestation.sigstore.json').toString('utf8'));
    const { tab, rows } = await signatureRows(`bundles/empty@${empty.digest}`, 'artifact-signature-sigstore');
    assert.deepEqual(rows, [['Sigstore bundle', 'cody@soyland.com (https://github.com/login/oauth)', `${sig.slice(0, 19)} (referrer)`, 'accepted']]);
    await tab.context.close();
  });

  it('shows a cosign key signature under the .sig tag as signed by a key, and the policy\'s verdict', async () => {
    const config = blob('{"architecture":"amd64","os":"linux"}');
    const layer = blob();
    const image = imageManifest(config, [layer]);
    await pushImage(reg.url, 'keyed/app', 'v1', config, [layer], image);
    const payload = simpleSigning('keyed/app', image.digest);
    const signature = await opensslSign(dir, keyFile, payload);
    const sig = await pushCosign(reg.url, 'keyed/app', image, [cosignLayer(payload, { 'dev.cosignproject.cosign/signature': signature })], 'tag');
    const { tab, rows } = await signatureRows(`keyed/app@${image.digest}`, 'artifact-signature-key');
    assert.deepEqual(rows, [['cosign signature', 'a key (no certificate names the signer)', `${sig.slice(0, 19)} (.sig tag)`, 'accepted']]);
    await tab.context.close();
  });
});
