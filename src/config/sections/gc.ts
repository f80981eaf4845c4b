// `gc`: see the issue that implements it.
import { unimplemented } from './common.js';

export const GcSection = unimplemented('garbage collection is not implemented yet');
