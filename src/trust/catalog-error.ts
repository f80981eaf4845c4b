// The stored-policy catalog's refusals, apart from catalog.ts so the admin API's routes can tell
// them without loading trust's cryptography libraries on a registry that has no policy.
export class TrustCatalogError extends Error {
  constructor(readonly code: 'INVALID' | 'CONFLICT' | 'NOT_FOUND', message: string) {
    super(message);
  }
}
