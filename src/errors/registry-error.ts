// The error every layer below HTTP throws; the HTTP error hook turns it into OCI error JSON.
import { ERROR_CODES, type ErrorCode } from './codes.js';

export interface RegistryErrorOptions {
  /** Overrides the table's status where the spec asks for another (413, 416). */
  status?: number;
  headers?: Record<string, string>;
  cause?: unknown;
  /** Replaces the table's generic message where the client must see why (a DENIED rule). */
  message?: string;
}

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;
  readonly #message: string | undefined;

  constructor(code: ErrorCode, detail?: unknown, options: RegistryErrorOptions = {}) {
    super(typeof detail === 'string' ? `${ERROR_CODES[code].message}: ${detail}` : ERROR_CODES[code].message, {
      cause: options.cause,
    });
    this.name = 'RegistryError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.detail = detail;
    this.headers = options.headers ?? {};
    this.#message = options.message;
    if (options.message) this.message = options.message;
  }

  /** The message written for this refusal (a DENIED rule's why), not the table's generic one. */
  get explanation(): string | undefined {
    return this.#message;
  }

  toJSON(): { code: ErrorCode; message: string; detail?: unknown } {
    const body: { code: ErrorCode; message: string; detail?: unknown } = { code: this.code, message: this.#message ?? ERROR_CODES[this.code].message };
    if (this.detail !== undefined) body.detail = this.detail;
    return body;
  }
}

export function isRegistryError(err: unknown): err is RegistryError {
  return err instanceof RegistryError;
}
