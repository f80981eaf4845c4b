// `berth serve`: loads configuration, starts the registry (src/server), and drains on
// SIGTERM/SIGINT; SIGHUP reloads the TLS certificate.
import { loadConfig } from '../config/load.js';
import { reloadCertificates } from '../http/tls.js';
import { startServer } from '../server/start-server.js';

// In-process test servers import these from here.
export { startServer, type RunningServer } from '../server/start-server.js';

export async function serveCommand(file: string | undefined): Promise<void> {
  const { config, warnings } = loadConfig({ ...(file ? { file } : {}), env: process.env });
  for (const w of warnings) process.stderr.write(`berth: warning: ${w}\n`);
  const server = await startServer(config, []);
  const drainMs = config.http.draintimeout;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal, drainMs }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      server.app.log.warn('drain timeout reached; closing remaining connections');
      server.app.server.closeAllConnections?.();
    }, drainMs);
    timer.unref();
    server.close(Date.now() + drainMs).then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (config.http.tls) {
    process.on('SIGHUP', () => {
      try {
        reloadCertificates(server.app.server, config);
        server.app.log.info('TLS certificate reloaded');
      } catch (err) {
        server.app.log.error({ err }, 'TLS certificate reload failed; keeping the previous one');
      }
    });
  }
}
