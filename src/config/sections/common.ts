// Building blocks shared by the configuration sections.
import { Type, type TSchema } from '@sinclair/typebox';
import { formatDuration, parseDuration } from '../duration.js';
import { parseByteSize } from '../size.js';

export const UNIMPLEMENTED = 'x-berth-unimplemented';

/** A Distribution key Berth accepts but does not act on yet; `why` is shown to the operator. */
export function unimplemented(why: string): TSchema {
  return Type.Optional(Type.Unknown({ [UNIMPLEMENTED]: why }));
}

export const strict = { additionalProperties: false } as const;

/** A Go-style duration string ("10s", "1h30m", "0"), as Distribution's config uses. */
export const duration = (def: string) =>
  Type.String({ default: def, pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$' });

/**
 * A duration written as Distribution writes it ("10s", "1h30m", "0") and loaded as milliseconds:
 * features read numbers and never parse.
 */
export const millis = (def: string) =>
  Type.Transform(duration(def)).Decode((text) => parseDuration(text)).Encode((ms) => formatDuration(ms));

/** "10GiB", "512MiB", "1.5GB", "1048576" (bytes), "0" (no limit), loaded as a number of bytes. */
export const bytes = (def: string) =>
  Type.Transform(Type.String({ default: def, pattern: '^[0-9]+(\\.[0-9]+)?\\s*([KMGT]i?B|B)?$' }))
    .Decode((text) => parseByteSize(text)).Encode((n) => String(n));

export const MISNAMED = 'x-berth-misnamed';

/**
 * Schema options listing names guides give a key that are too far from it for "did you mean"
 * by spelling (CloudFront's `privatekey` written `secretkey`); the error then points to the key.
 */
export const misnamed = (...names: string[]) => ({ [MISNAMED]: names });

export const SECRET = 'x-berth-secret';
export const NOT_SECRET = 'x-berth-not-secret';

/**
 * How printers of the configuration (src/config/mask.ts) hide a key: `value` the whole value,
 * `url` a URL's password and credential-like query parameters, `headers` the values of
 * credential-like header names, `path` a file path unless it is an inline PEM key instead.
 */
export type SecretKind = 'value' | 'url' | 'headers' | 'path';

/** Schema options marking a key that holds (or may hold) a credential. */
export const secret = (kind: SecretKind = 'value') => ({ [SECRET]: kind });

/** Schema options for a key whose name sounds like a credential but is not one, saying why. */
export const notSecret = (why: string) => ({ [NOT_SECRET]: why });
