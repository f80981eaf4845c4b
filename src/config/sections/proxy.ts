// `proxy`: see the issue that implements it.
import { unimplemented } from './common.js';

export const ProxySection = unimplemented('pull-through cache is not implemented yet');
