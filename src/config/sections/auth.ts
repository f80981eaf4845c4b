// `auth`: see the issue that implements it.
import { unimplemented } from './common.js';

export const AuthSection = unimplemented('authentication is not implemented yet');
