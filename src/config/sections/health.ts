// `health`: see the issue that implements it.
import { unimplemented } from './common.js';

export const HealthSection = unimplemented('health checks are not implemented yet');
