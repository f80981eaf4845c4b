// Kept so branches in flight that import it still build: the CLI runner is test/support/cli.ts.
export { runBerth as berthCli, berthJson, berthOk, type CliResult } from '../../support/cli.js';
