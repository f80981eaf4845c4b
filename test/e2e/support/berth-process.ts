// Moved to test/support/processes.ts; re-exported so the many e2e importers need no change.
export { procStatusBytes, startBerth, type BerthOptions, type BerthProcess } from '../../support/processes.js';
