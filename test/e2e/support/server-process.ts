// Moved to test/support/processes.ts; re-exported so the many e2e importers need no change.
export { startServerProcess, type ServerProcess, type ServerProcessOptions } from '../../support/processes.js';
