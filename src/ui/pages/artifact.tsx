// One artifact: overview, index children, layers and history, config, annotations, and its
// referrers as a tree (signatures, SBOMs, attestations), each a page of its own where its
// blobs can be viewed and downloaded.
import { useState } from 'preact/hooks';
import { raw, v2Path, namePath } from '../api.js';
import { read, useLoad, type ArtifactDetail, type ReferrerNode, type SignatureSummary } from '../data.js';
import { Link, href } from '../router.js';
import { age, bytes, platformName, shortDigest, when } from '../format.js';
import { PlatformChips, SignedBadge, Status } from '../components/bits.js';
import { PullCommand } from '../components/pull-command.js';

export function ArtifactPage(props: { repository: string; reference: string }) {
  const { repository, reference } = props;
  const detail = useLoad(() => read.artifact(repository, reference), `${repository}@${reference}`);
  const a = detail.data;
  return (
    <section>
      <p class="crumbs"><Link to={href(`repositories/${repository}`)}>{repository}</Link> @</p>
      <h1><code>{shortDigest(reference)}</code></h1>
      <Status loading={detail.loading} error={detail.error}>
        {a && <Artifact a={a} repository={repository} />}
      </Status>
    </section>
  );
}

function Artifact(props: { a: ArtifactDetail; repository: string }) {
  const { a, repository } = props;
  return (
    <>
      <dl class="overview">
        <dt>Tags</dt><dd>{a.tags.length ? a.tags.join(', ') : <span class="muted">untagged</span>}</dd>
        <dt>Digest</dt><dd><code data-testid="digest">{a.digest}</code></dd>
        <dt>Media type</dt><dd><code>{a.mediaType}</code></dd>
        {a.artifactType && <><dt>Artifact type</dt><dd><code>{a.artifactType}</code></dd></>}
        <dt>Size</dt><dd data-testid="artifact-size" data-bytes={a.sizeBytes}>{bytes(a.sizeBytes)}</dd>
        <dt>Platforms</dt><dd data-testid="platforms"><PlatformChips platforms={a.platforms} /></dd>
        <dt>Created</dt><dd>{when(a.created)}</dd>
        <dt>Pushed</dt><dd>{when(a.pushedAt)}</dd>
        <dt>Last pull</dt><dd>{age(a.lastPulledAt)}</dd>
        <dt>Referrers</dt><dd><SignedBadge referrers={a.referrers} /> {a.referrers.total === 0 && <span class="muted">none</span>}</dd>
        {a.subject && <><dt>Refers to</dt><dd><Link to={href(`repositories/${repository}@${a.subject}`)}><code>{shortDigest(a.subject)}</code></Link></dd></>}
      </dl>
      <h2>Pull</h2>
      {a.tags[0] && <PullCommand repository={repository} reference={a.tags[0]} label={a.tags[0]} />}
      <PullCommand repository={repository} reference={a.digest} label="by digest" />
      {a.children.length > 0 && (
        <>
          <h2>Platforms of this index</h2>
          <table class="grid">
            <thead><tr><th scope="col">Platform</th><th scope="col">Digest</th><th scope="col">Size</th></tr></thead>
            <tbody>{a.children.map((c) => (
              <tr><td>{c.platform ? platformName(c.platform) : c.artifactType ?? '–'}</td>
                <td><Link to={href(`repositories/${repository}@${c.digest}`)}><code>{shortDigest(c.digest)}</code></Link></td><td class="num">{bytes(c.sizeBytes)}</td></tr>
            ))}</tbody>
          </table>
        </>
      )}
      {a.layers.length > 0 && (
        <>
          <h2>Layers</h2>
          <table class="grid">
            <thead><tr><th scope="col">#</th><th scope="col">Digest</th><th scope="col">Media type</th><th scope="col">Size</th><th scope="col">Content</th></tr></thead>
            <tbody>{a.layers.map((l, i) => (
              <tr><td>{i + 1}</td><td><code title={l.digest}>{shortDigest(l.digest)}</code></td><td><code>{l.mediaType}</code></td><td class="num">{bytes(l.sizeBytes)}</td>
                <td><BlobLinks repository={repository} digest={l.digest} mediaType={l.mediaType} size={l.sizeBytes} title={l.annotations['org.opencontainers.image.title']} /></td></tr>
            ))}</tbody>
          </table>
        </>
      )}
      {a.history.length > 0 && (
        <>
          <h2>History</h2>
          <ol class="history">{a.history.map((h) => <li><code>{h.createdBy ?? h.comment ?? '–'}</code>{h.emptyLayer && <span class="muted"> (no layer)</span>}</li>)}</ol>
        </>
      )}
      {Object.keys(a.annotations).length > 0 && (
        <>
          <h2>Annotations</h2>
          <dl class="annotations">{Object.entries(a.annotations).map(([k, v]) => <><dt><code>{k}</code></dt><dd>{v}</dd></>)}</dl>
        </>
      )}
      <h2>Signatures</h2>
      {a.signatures.length === 0 ? <p class="muted">No signature names this artifact (cosign's <code>.sig</code> tag or a signature referrer).</p> : <Signatures signatures={a.signatures} repository={repository} />}
      <h2>Referrers</h2>
      {a.referrerTree.length === 0 ? <p class="muted">No signatures, SBOMs or attestations refer to this artifact.</p> : <Referrers nodes={a.referrerTree} repository={repository} signers={new Map(a.signatures.map((s) => [s.manifest, s]))} />}
      {a.config !== null && a.config !== undefined && (
        <details>
          <summary>Config</summary>
          <pre class="json">{JSON.stringify(a.config, null, 2)}</pre>
        </details>
      )}
      <details>
        <summary>Manifest</summary>
        <pre class="json">{JSON.stringify(a.manifest, null, 2)}</pre>
      </details>
    </>
  );
}

function kindOf(type: string | null): string {
  const t = type ?? '';
  if (/sig|signature|notary|cosign/i.test(t)) return 'signature';
  if (/spdx|cyclonedx|sbom|syft/i.test(t)) return 'SBOM';
  if (/intoto|in-toto|attest|provenance|slsa/i.test(t)) return 'attestation';
  return t || 'artifact';
}

const KIND: Record<SignatureSummary['kind'], string> = { cosign: 'cosign signature', 'sigstore-bundle': 'Sigstore bundle', notation: 'Notation signature' };

/** Who signed, as the signature's certificate says; a key signature names no one. */
function signerText(s: SignatureSummary): string {
  if (s.signer) return s.issuer ? `${s.signer} (${s.issuer})` : s.signer;
  return s.signedWith === 'key' ? 'a key (no certificate names the signer)' : 'unreadable';
}

function Signatures(props: { signatures: SignatureSummary[]; repository: string }) {
  return (
    <table class="grid" data-testid="signatures">
      <thead><tr><th scope="col">Kind</th><th scope="col">Signed by</th><th scope="col">Stored as</th><th scope="col">Trust policy</th></tr></thead>
      <tbody>{props.signatures.map((s) => (
        <tr data-kind={s.kind}>
          <td>{KIND[s.kind]}</td>
          <td data-testid="signer">{signerText(s)}</td>
          <td><Link to={href(`repositories/${props.repository}@${s.manifest}`)}><code>{shortDigest(s.manifest)}</code></Link> <span class="muted">{s.via === 'tag' ? '(.sig tag)' : '(referrer)'}</span></td>
          <td>{s.verified === null ? <span class="muted">not judged</span> : <span class={`badge ${s.verified ? 'ok' : 'warn'}`} title={s.verdict ?? undefined}>{s.verified ? 'accepted' : 'refused'}</span>}</td>
        </tr>
      ))}</tbody>
    </table>
  );
}

function Referrers(props: { nodes: ReferrerNode[]; repository: string; signers: Map<string, SignatureSummary> }) {
  return (
    <ul class="tree" data-testid="referrers">
      {props.nodes.map((n) => {
        const sig = props.signers.get(n.digest);
        return (
          <li data-kind={kindOf(n.artifactType)}>
            <span class="badge info">{kindOf(n.artifactType)}</span>{' '}
            <Link to={href(`repositories/${props.repository}@${n.digest}`)}><code>{shortDigest(n.digest)}</code></Link>{' '}
            <span class="muted">{n.artifactType ?? n.mediaType} · {bytes(n.sizeBytes)} · {age(n.pushedAt)}</span>
            {sig && <span> · signed by <strong>{signerText(sig)}</strong></span>}
            {n.referrers.length > 0 && <Referrers nodes={n.referrers} repository={props.repository} signers={props.signers} />}
          </li>
        );
      })}
    </ul>
  );
}

/** View a small text blob in place (an SBOM, an attestation) or download any blob. */
function BlobLinks(props: { repository: string; digest: string; mediaType: string; size: number; title: string | undefined }) {
  const [text, setText] = useState<string | undefined>(undefined);
  const url = v2Path(`/${namePath(props.repository)}/blobs/${props.digest}`);
  const viewable = props.size <= 2 * 1024 * 1024 && /json|text|spdx|cyclonedx|intoto/i.test(props.mediaType);
  const view = async () => {
    const res = await raw(url, { accept: '*/*' });
    const body = await res.text();
    try { setText(JSON.stringify(JSON.parse(body), null, 2)); } catch { setText(body); }
  };
  return (
    <>
      <a href={url} download={props.title ?? props.digest.replace(':', '-')}>Download</a>
      {viewable && <> · <button type="button" class="link" onClick={view}>View</button></>}
      {/* Focusable so a keyboard can scroll it: a long SBOM overflows the panel's max height. */}
      {text !== undefined && <pre class="json" tabIndex={0} data-testid="blob-view">{text}</pre>}
    </>
  );
}
