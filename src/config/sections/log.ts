// `log`: Distribution's logging keys.
import { Type } from '@sinclair/typebox';
import { strict, unimplemented } from './common.js';

export const LogSection = Type.Object({
  level: Type.Union([Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')], { default: 'info' }),
  /** Unset: text on a terminal, json otherwise (src/server/logger.ts). */
  formatter: Type.Optional(Type.Union([Type.Literal('text'), Type.Literal('json'), Type.Literal('logstash')])),
  fields: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
  accesslog: Type.Object({ disabled: Type.Boolean({ default: false }) }, { ...strict, default: {} }),
  reportcaller: Type.Boolean({ default: false }),
  hooks: unimplemented('log hooks (mail alerts) are not supported'),
}, { ...strict, default: {} });
