// The process logger (pino), shaped by Distribution's log.level and log.fields.
import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.js';

export function createLogger(config: Config, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino({
    level: config.log.level,
    base: { service: 'berth', ...config.log.fields },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.secret'], censor: '[redacted]' },
  }, destination as pino.DestinationStream);
}
