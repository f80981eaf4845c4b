// `http.tls` and `http.http2`: TLS termination in Berth itself.
import { unimplemented } from './common.js';

export const TlsSection = unimplemented('TLS termination is not implemented yet: put nginx in front');
export const Http2Section = unimplemented('HTTP/2 needs TLS, which is not implemented yet');
