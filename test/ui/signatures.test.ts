// An artifact's signatures and SBOM in the console (Debian's Chromium), each signature shown with
// its signer. A real client attaches them: skopeo pushes, from an OCI layout the test writes, an
// image signed by the `notation` CLI and the signature manifest notation made (published by the
// Notary Project, test/trust/fixtures), and an SPDX SBOM artifact whose `subject` is that image;
// the SBOM is viewed and downloaded from its page. Also a Sigstore bundle made by `cosign attest`
// (published by Sigstore), and a cosign key signature under the `.sig` tag, signed with openssl
// as `cosign sign --key` signs, both pushed over HTTP. No Debian client can *make* a signature:
// Debian builds skopeo, podman and buildah with sigstore signing disabled, and packages neither
// cosign, notation nor oras (/work/notes/skopeo-sigstore.md). Trust policies cover all three
// repositories (audit mode), so the page also shows each policy's verdict; axe-core finds nothing
// serious.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, sha256, DOCKER_MANIFEST, EMPTY_CONFIG as EMPTY_JSON, OCI_MANIFEST } from '../support/oci-fixtures.js';
import { pushBlob, pushImage, pushManifest } from '../support/push.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { copy } from '../e2e/support/skopeo.js';
import { cosignLayer, opensslSign, pushBundle, pushCosign, simpleSigning } from '../trust/support/fixtures.js';
import { FIXTURES, NOTATION, asManifest, fixture } from '../trust/support/published.js';
import { browserMissing, launch, openTab, screenshot, seriousViolations } from './support/browser.js';

const skip = browserMissing();
const skopeoGate = requireClients('skopeo');
/** A small SPDX 2.3 document describing the notation test image's one file. */
const SPDX = {
  spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'notary/e2e:v1',
  documentNamespace: 'https://berth.invalid/spdx/notary-e2e-v1',
  creationInfo: { created: '2026-12-06T00:00:00Z', creators: ['Tool: berth-tests'] },
  packages: [{ name: 'e2e.txt', SPDXID: 'SPDXRef-Package-e2e', versionInfo: '1', downloadLocation: 'NOASSERTION', licenseConcluded: 'NOASSERTION', copyrightText: 'NOASSERTION' }],
  relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Package-e2e' }],
};

/** An OCI image layout holding `blobs` and the manifests, each under its ref name for `oci:DIR:NAME`. */
async function writeLayout(dir: string, blobs: Buffer[], manifests: Record<string, Buffer>): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const all = new Map([...blobs, ...Object.values(manifests)].map((b) => [sha256(b).slice(7), b]));
  await Promise.all([...all].map(([hex, b]) => writeFile(join(dir, 'blobs', 'sha256', hex), b)));
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: Object.entries(manifests).map(([name, body]) => ({ mediaType: OCI_MANIFEST, digest: sha256(body), size: body.length, annotations: { 'org.opencontainers.image.ref.name': name } })),
  }));
}
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

  it('shows the signature and the SBOM skopeo attached: notation\'s signer and the policy\'s verdict, the SPDX document viewable and downloadable', { skip: skopeoGate.skip }, async () => {
    skopeoGate.assertPresent();
    // skopeo copies each manifest byte for byte (to a digest reference it must), `subject` and
    // `artifactType` included, so Berth indexes them as referrers of the image.
    const layout = join(dir, 'layout');
    const sbomLayer = blob(JSON.stringify(SPDX, null, 2));
    const sbom = asManifest(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/spdx+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON.digest, size: EMPTY_JSON.size },
      layers: [{ mediaType: 'application/spdx+json', digest: sbomLayer.digest, size: sbomLayer.size, annotations: { 'org.opencontainers.image.title': 'sbom.spdx.json' } }],
      subject: { mediaType: OCI_MANIFEST, digest: sha256(NOTATION.image), size: NOTATION.image.length },
    })), OCI_MANIFEST);
    await writeLayout(layout, [NOTATION.config, NOTATION.layer, NOTATION.envelope, EMPTY_JSON.data, sbomLayer.data], { v1: NOTATION.image, sig: NOTATION.signatureManifest, sbom: sbom.body });
    const dest = `docker://${reg.host}/notary/e2e`;
    await copy(`oci:${layout}:v1`, `${dest}:v1`);
    await copy(`oci:${layout}:sig`, `${dest}@${sha256(NOTATION.signatureManifest)}`);
    await copy(`oci:${layout}:sbom`, `${dest}@${sbom.digest}`);

    const { tab, rows } = await signatureRows(`notary/e2e@${sha256(NOTATION.image)}`, 'artifact-signature-notation');
    const { page } = tab;
    assert.deepEqual(rows, [['Notation signature', 'CN=e2e, O=Notary, L=Seattle, ST=WA, C=US', `${sha256(NOTATION.signatureManifest).slice(0, 19)} (referrer)`, 'accepted']]);
    const signature = page.getByTestId('referrers').locator(':scope > li[data-kind="signature"]');
    assert.match(await signature.textContent() ?? '', /^signature .*signed by CN=e2e, O=Notary, L=Seattle, ST=WA, C=US$/);
    const sbomItem = page.getByTestId('referrers').locator(':scope > li[data-kind="SBOM"]');
    assert.equal(await sbomItem.count(), 1);
    assert.match(await sbomItem.textContent() ?? '', /^SBOM .*application\/spdx\+json/);

    await sbomItem.getByRole('link').click();
    await page.getByTestId('digest').filter({ hasText: sbom.digest }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'application/spdx+json' });
    await row.getByRole('button', { name: 'View' }).click();
    assert.deepEqual(JSON.parse(await page.getByTestId('blob-view').textContent() ?? ''), SPDX);
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, 'artifact-sbom');
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: 'Download' }).click()]);
    assert.equal(download.suggestedFilename(), 'sbom.spdx.json');
    assert.deepEqual(await readFile((await download.path())!), sbomLayer.data);
    assert.deepEqual(tab.problems, []);
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
