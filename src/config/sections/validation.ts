// `validation`: Distribution's checks on pushed manifests. `manifests.urls` restricts the URLs
// of layers that are fetched from elsewhere (non-distributable / foreign layers). As in
// Distribution: the checks are on unless `disabled: true` (and the deprecated `enabled` is not
// true); on, with neither list set, no URL is accepted; `allow` and `deny` are regular
// expressions any one of which must (allow) or must not (deny) match somewhere in the URL.
// Off, any http or https URL without a fragment is accepted.
import { Type } from '@sinclair/typebox';
import { strict, unimplemented } from './common.js';

export const ValidationSection = Type.Object({
  /** Deprecated in Distribution for `disabled`; `true` turns the checks on whatever `disabled` says. */
  enabled: Type.Optional(Type.Boolean()),
  disabled: Type.Boolean({ default: false }),
  manifests: Type.Object({
    urls: Type.Object({
      allow: Type.Array(Type.String(), { default: [] }),
      deny: Type.Array(Type.String(), { default: [] }),
    }, { ...strict, default: {} }),
    indexes: unimplemented('validation.manifests.indexes (required platforms in an index) is not implemented'),
  }, { ...strict, default: {} }),
}, { ...strict, default: {} });

/** Patterns that do not compile as regular expressions. */
export function validationConfigProblems(v: { manifests: { urls: { allow: string[]; deny: string[] } } }): string[] {
  const problems: string[] = [];
  for (const key of ['allow', 'deny'] as const) {
    for (const pattern of v.manifests.urls[key]) {
      try {
        new RegExp(pattern);
      } catch (err) {
        problems.push(`validation.manifests.urls.${key}: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}
