// `middleware`: see the issue that implements it.
import { unimplemented } from './common.js';

export const MiddlewareSection = unimplemented('storage and registry middleware are not implemented yet');
