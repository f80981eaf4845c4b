// The read API's query parameters, checked: an unknown parameter or a bad value is refused with
// the registry's error JSON (code INVALID) naming the parameter, never ignored.
import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../../errors/index.js';
import { CursorError, decodeCursor, type Cursor } from '../../inventory/cursor.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

export class QueryReader {
  readonly #q: Record<string, unknown>;

  constructor(req: FastifyRequest, allowed: readonly string[]) {
    this.#q = (req.query ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(this.#q)) {
      if (!allowed.includes(key)) throw invalid(key, `unknown query parameter "${key}" (accepted: ${allowed.join(', ') || 'none'})`);
    }
  }

  text(key: string, maxLength = 256): string | undefined {
    const v = this.#q[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalid(key, `"${key}" may be given once`);
    if (v.length > maxLength) throw invalid(key, `"${key}" is longer than ${maxLength} characters`);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const v = this.text(key);
    if (v === undefined) return fallback;
    if (!(values as readonly string[]).includes(v)) throw invalid(key, `"${key}" must be one of ${values.join(', ')}`);
    return v as T;
  }

  flag(key: string): boolean | undefined {
    const v = this.text(key);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw invalid(key, `"${key}" must be true or false`);
    return v === 'true';
  }

  limit(): number {
    const v = this.text('limit');
    if (v === undefined) return DEFAULT_LIMIT;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw invalid('limit', `"limit" must be a whole number from 1 to ${MAX_LIMIT}`);
    return n;
  }

  cursor(): Cursor | undefined {
    const v = this.text('cursor', 2048);
    if (v === undefined) return undefined;
    try {
      return decodeCursor(v);
    } catch (err) {
      if (err instanceof CursorError) throw invalid('cursor', err.message);
      throw err;
    }
  }

  /** An ISO-8601 time (or date), as given; refused unless it parses. */
  time(key: string): string | undefined {
    const v = this.text(key, 64);
    if (v === undefined) return undefined;
    const t = new Date(v);
    if (Number.isNaN(t.getTime())) throw invalid(key, `"${key}" must be an ISO-8601 time such as 2026-01-31T12:00:00Z`);
    return t.toISOString();
  }
}

export function invalid(parameter: string, message: string): RegistryError {
  return new RegistryError('INVALID', { parameter }, { message });
}
