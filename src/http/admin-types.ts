// The shapes shared by the admin API's route tables, and its refusals: each names a code of the
// error table (src/errors/codes.ts), whose row gives the status.
import type { FastifyRequest } from 'fastify';
import { errorBodyText } from './error-body.js';
import { ERROR_CODES, type ErrorCode } from '../errors/index.js';
import { AccessStoreError, LastAdminError } from '../auth/access-store.js';

export type AdminBody = Record<string, unknown>;
export interface AdminCall { req: FastifyRequest; body: AdminBody; params: Record<string, string>; actor: string; address: string }
export type AdminAction = (call: AdminCall) => Promise<{ status: number; body?: unknown; audit?: { action: string; target: string; detail?: Record<string, unknown> } }>;

/** A refusal with a code of the error table, a message for the caller and, rarely, its own status (413). */
export class AdminApiError extends Error {
  readonly status: number;
  readonly detail: Record<string, unknown> | undefined;

  constructor(readonly code: ErrorCode, message: string, options: { status?: number; detail?: Record<string, unknown> } = {}) {
    super(message);
    this.status = options.status ?? ERROR_CODES[code].status;
    this.detail = options.detail;
  }

  /** The admin API's refusal for a refused change of the access store (its code says which). */
  static fromStore(err: AccessStoreError): AdminApiError {
    return new AdminApiError(err.code, err.message, err instanceof LastAdminError ? { detail: { reason: 'last system administrator' } } : {});
  }
}

/** `body[key]` as a non-empty string, or a 400 naming the key. */
export function requiredString(body: AdminBody, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw new AdminApiError('INVALID', `"${key}" must be a non-empty string`);
  return v;
}

/** An admin API refusal: `error` as before, and the registry's `errors` list (code, message, detail). */
export function adminErrorBody(err: AdminApiError): string {
  const entry = { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) };
  return errorBodyText([entry], { error: err.message });
}
