// `metrics`: see the issue that implements it.
import { unimplemented } from './common.js';

export const MetricsSection = unimplemented('metrics are not implemented yet');
