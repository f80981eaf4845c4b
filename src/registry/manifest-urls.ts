// Which URLs a pushed manifest's layers may name (`validation.manifests.urls`), with
// Distribution's semantics: http or https, no fragment, and while the checks are on, matched by
// an `allow` pattern (when there are any) and by no `deny` pattern; on with neither list set,
// none at all. A layer whose URLs pass is still required in the repository unless its media
// type is non-distributable (manifest-store.ts).

export interface ManifestUrlRules {
  /** Distribution's `validation.disabled` (and its deprecated `enabled`, which wins when true). */
  enabled?: boolean | undefined;
  disabled: boolean;
  manifests: { urls: { allow: string[]; deny: string[] } };
}

export class ManifestUrlPolicy {
  readonly #on: boolean;
  readonly #allow: RegExp[] | undefined;
  readonly #deny: RegExp[];
  readonly #nothing: boolean;

  constructor(rules: ManifestUrlRules = { disabled: false, manifests: { urls: { allow: [], deny: [] } } }) {
    this.#on = rules.enabled === true || !rules.disabled;
    const { allow, deny } = rules.manifests.urls;
    this.#nothing = this.#on && allow.length === 0 && deny.length === 0;
    this.#allow = this.#on && allow.length > 0 ? allow.map((p) => new RegExp(p)) : undefined;
    this.#deny = this.#on ? deny.map((p) => new RegExp(p)) : [];
  }

  /** Why `url` is refused, or undefined when it is accepted. */
  problem(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'not an absolute URL';
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'only http and https URLs are accepted';
    if (parsed.hash !== '') return 'a URL with a fragment is not accepted';
    if (this.#nothing) return 'this registry accepts no layer URLs (validation.manifests.urls.allow is not set)';
    if (this.#allow && !this.#allow.some((re) => re.test(url))) return 'matches no validation.manifests.urls.allow pattern';
    if (this.#deny.some((re) => re.test(url))) return 'matches a validation.manifests.urls.deny pattern';
    return undefined;
  }
}
