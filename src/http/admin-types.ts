// The shapes shared by the admin API's route tables.
import type { FastifyRequest } from 'fastify';
import { errorBodyText } from './error-body.js';

export type AdminBody = Record<string, unknown>;
export interface AdminCall { req: FastifyRequest; body: AdminBody; params: Record<string, string>; actor: string; address: string }
export type AdminAction = (call: AdminCall) => Promise<{ status: number; body?: unknown; audit?: { action: string; target: string; detail?: Record<string, unknown> } }>;

/** A refusal with its HTTP status and a message for the caller. */
export class AdminApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** `body[key]` as a non-empty string, or a 400 naming the key. */
export function requiredString(body: AdminBody, key: string): string {
  const v = body[key];
  if (typeof v !== 'string' || v === '') throw new AdminApiError(400, `"${key}" must be a non-empty string`);
  return v;
}

const CODES: Record<number, string> = {
  400: 'INVALID', 401: 'UNAUTHORIZED', 403: 'DENIED', 404: 'NOT_FOUND', 409: 'CONFLICT',
  413: 'SIZE_INVALID', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'TOOMANYREQUESTS',
};

/** An admin API refusal: `error` as before, and the registry's `errors` list (code, message, detail). */
export function adminErrorBody(status: number, message: string, detail?: Record<string, unknown>): string {
  const entry = { code: CODES[status] ?? 'UNKNOWN', message, ...(detail ? { detail } : {}) };
  return errorBodyText([entry], { error: message });
}
