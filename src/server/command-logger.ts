// What the assembled pieces log while a one-shot command runs: warnings and errors to stderr in
// the command's own words, progress only when asked; stdout stays the command's report.
import { pino, type Logger } from 'pino';

export function commandLogger(options: { progress?: boolean } = {}): Logger {
  return pino({
    level: options.progress ? 'info' : 'warn',
    base: undefined,
    timestamp: false,
    formatters: { level: () => ({}) },
    hooks: {
      logMethod(args, _method, level) {
        const [first, ...rest] = args as unknown[];
        const message = typeof first === 'string' ? first : String(rest[0] ?? '');
        const fields = typeof first === 'object' && first !== null && Object.keys(first).length > 0
          ? ` ${JSON.stringify(first, (_key, value: unknown) => (value instanceof Error ? value.message : value))}` : '';
        process.stderr.write(`${level >= 40 ? 'berth: warning: ' : ''}${message}${fields}\n`);
      },
    },
  });
}
