// Errors the OCI client raises: an HTTP answer the registry gave (with its OCI error code when
// the body carried one), or a transport failure before any answer. Callers (copy, doctor,
// proxy) decide on retries and messages from these fields, never from message text.

export class RegistryResponseError extends Error {
  readonly status: number;
  /** First OCI error code of the body (`MANIFEST_UNKNOWN`...), when there was one. */
  readonly code: string | undefined;
  readonly url: string;
  constructor(status: number, url: string, code: string | undefined, detail: string) {
    super(`${status}${code ? ` ${code}` : ''} from ${url}${detail ? `: ${detail}` : ''}`);
    this.name = 'RegistryResponseError';
    this.status = status;
    this.code = code;
    this.url = url;
  }
}

export class DigestMismatchError extends Error {
  constructor(expected: string, actual: string, what: string) {
    super(`${what}: expected digest ${expected}, got ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

/** A listing that does not end within bounds (an endless or looping `Link` chain). */
export class ListingLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListingLimitError';
  }
}

/** Parses an OCI error body (`{"errors":[{code,message}]}`) into code and message, if it is one. */
export function ociErrorOf(text: string): { code?: string; message?: string } {
  try {
    const doc = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = doc.errors?.[0];
    if (!first) return {};
    return {
      ...(typeof first.code === 'string' ? { code: first.code } : {}),
      ...(typeof first.message === 'string' ? { message: first.message } : {}),
    };
  } catch {
    return {};
  }
}

const RETRYABLE_NET = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Whether a failure is worth another attempt: 5xx, 429, or a network error before an answer. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof RegistryResponseError) return err.status >= 500 || err.status === 429;
  const code = (err as { code?: unknown })?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && RETRYABLE_NET.has(code);
}
