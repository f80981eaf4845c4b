// Small shared pieces: platform chips, the signed badge, loading and error states, a pager.
import type { ComponentChildren } from 'preact';
import { platformName } from '../format.js';
import type { Platform, ReferrerCounts } from '../data.js';
import { ApiError } from '../api.js';

export function PlatformChips(props: { platforms: Array<Pick<Platform, 'os' | 'architecture' | 'variant'>> }) {
  if (props.platforms.length === 0) return <span class="muted">–</span>;
  return (
    <ul class="chips" aria-label="platforms">
      {props.platforms.map((p) => <li class="chip">{platformName(p)}</li>)}
    </ul>
  );
}

export function SignedBadge(props: { referrers: ReferrerCounts }) {
  const r = props.referrers;
  return (
    <span class="badges">
      {r.signatures > 0 && <span class="badge ok" title={`${r.signatures} signature(s)`}>signed</span>}
      {r.sboms > 0 && <span class="badge info" title={`${r.sboms} SBOM(s)`}>SBOM</span>}
      {r.attestations > 0 && <span class="badge info" title={`${r.attestations} attestation(s)`}>attested</span>}
    </span>
  );
}

export function Status(props: { loading: boolean; error: Error | undefined; children?: ComponentChildren }) {
  if (props.error) {
    const e = props.error;
    const text = e instanceof ApiError && e.status === 403 ? 'You may not see this.' : e instanceof ApiError && e.status === 404 ? 'Not found.' : e.message;
    return <p class="error" role="alert">{text}</p>;
  }
  if (props.loading) return <p class="muted" role="status">Loading…</p>;
  return <>{props.children}</>;
}

export function Pager(props: { hasPrevious: boolean; next: string | null; onPrevious: () => void; onNext: () => void }) {
  if (!props.hasPrevious && !props.next) return null;
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" class="secondary" disabled={!props.hasPrevious} onClick={props.onPrevious}>Previous</button>
      <button type="button" class="secondary" disabled={!props.next} onClick={props.onNext}>Next</button>
    </nav>
  );
}
