// A separate process that takes the GC lock through the real code (StorageLock on a filesystem
// root given as argv[2]), says "held" on stdout, and then holds it until it is killed.
import { FilesystemDriver } from '../../../src/storage/drivers/filesystem/index.js';
import { StorageLock } from '../../../src/gc/lock.js';

const root = process.argv[2];
if (!root) throw new Error('usage: hold-lock.js ROOT');
await new StorageLock(new FilesystemDriver(root), { owner: 'doomed collector' }).acquire();
process.stdout.write('held\n');
setInterval(() => undefined, 60_000);
