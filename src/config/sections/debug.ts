// `http.debug`: Distribution's debug server, where it serves /metrics.
import { unimplemented } from './common.js';

export const DebugSection = unimplemented('the debug server (/metrics, pprof) is not implemented yet');
