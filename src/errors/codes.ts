// The one table of registry error codes: the distribution-spec's codes, with their HTTP status
// and message, plus a few clearly marked Berth extensions.

export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 404, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
  // Extensions (not in the distribution-spec), used where no spec code fits.
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  TAG_INVALID: { status: 400, message: 'manifest tag did not match URI' },
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  NOT_FOUND: { status: 404, message: 'no such endpoint' },
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  // The storage filesystem refused a write for lack of space (ENOSPC) or quota (EDQUOT).
  STORAGE_FULL: { status: 507, message: 'storage is full' },
  INTERNAL: { status: 500, message: 'internal server error' },
  // Extensions of the admin API (/api/v1): its refusals carry these codes (src/http/admin-types.ts).
  INVALID: { status: 400, message: 'request invalid' },
  CONFLICT: { status: 409, message: 'conflict with the current state' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported media type' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
