// The client-side commands (copy, save, load, login, sync, configure, doctor), registered
// together so that main.ts loads the OCI client only when one of them may run.
import type { Command } from 'commander';
import { registerCopyCommands } from './copy-command.js';
import { registerSyncCommand } from './sync-command.js';
import { registerConfigureCommand } from './configure-command.js';
import { registerDoctorCommand } from './doctor-command.js';

export function registerClientTools(program: Command): void {
  registerCopyCommands(program);
  registerSyncCommand(program);
  registerConfigureCommand(program);
  registerDoctorCommand(program);
}
