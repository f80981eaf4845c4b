// Building blocks shared by the configuration sections.
import { Type, type TSchema } from '@sinclair/typebox';

export const UNIMPLEMENTED = 'x-berth-unimplemented';

/** A Distribution key Berth accepts but does not act on yet; `why` is shown to the operator. */
export function unimplemented(why: string): TSchema {
  return Type.Optional(Type.Unknown({ [UNIMPLEMENTED]: why }));
}

export const strict = { additionalProperties: false } as const;

/** A Go-style duration string ("10s", "1h30m", "0"), as Distribution's config uses. */
export const duration = (def: string) =>
  Type.String({ default: def, pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$' });
