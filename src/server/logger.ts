// The process logger (pino), shaped by Distribution's log.level, log.formatter and log.fields.
// json is pino's own line format; logstash renames the fields the way Logstash's json codec
// expects (@timestamp, @version, message); text is pino-pretty's one line per record. Whatever
// the format, credentials are censored before a line is written. Without log.formatter, a
// terminal gets text and anything else json.
import { createRequire } from 'node:module';
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { PinoPretty as PinoPrettyFactory } from 'pino-pretty';
import type { Config } from '../config/schema.js';

/** Paths pino censors: credentials in headers, bodies and our own log fields. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["proxy-authorization"]', 'req.headers.cookie',
  'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie',
  '*.password', '*.secret', '*.token', '*.access_token', '*.refresh_token', '*.authorization',
  'password', 'secret', 'token', 'access_token', 'refresh_token', 'authorization',
];

export function createLogger(config: Config, destination: NodeJS.WritableStream = process.stderr): Logger {
  const options: LoggerOptions = {
    level: config.log.level,
    base: { service: 'berth', ...config.log.fields },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  // Unset: people read a terminal, machines read everything else (a pipe, a file, journald).
  const formatter = config.log.formatter ?? ((destination as { isTTY?: boolean }).isTTY === true ? 'text' : 'json');
  switch (formatter) {
    case 'text': {
      // Loaded only for this formatter: the JSON default does not pay for it at startup.
      const { PinoPretty } = createRequire(import.meta.url)('pino-pretty') as { PinoPretty: typeof PinoPrettyFactory };
      return pino(options, PinoPretty({ destination: destination as NodeJS.WritableStream & { fd?: number }, colorize: false, sync: true, singleLine: true }) as pino.DestinationStream);
    }
    case 'logstash':
      return pino({
        ...options,
        messageKey: 'message',
        timestamp: () => `,"@timestamp":"${new Date().toISOString()}","@version":"1"`,
        formatters: { level: (label) => ({ level: label }) },
      }, destination as pino.DestinationStream);
    default:
      return pino(options, destination as pino.DestinationStream);
  }
}
