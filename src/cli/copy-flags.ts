// The flags of `berth copy` (and of save, load and sync, which take the same): their own file so
// the commands that share them need not import one another.
import type { TransferFlags } from './transfer-options.js';

export interface CopyFlags extends TransferFlags {
  all?: boolean;
  platform?: string;
  referrers?: boolean;
  jobs?: string;
  quiet?: boolean;
  json?: boolean;
}
