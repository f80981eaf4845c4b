// `redis`: see the issue that implements it.
import { unimplemented } from './common.js';

export const RedisSection = unimplemented('redis is not used yet');
