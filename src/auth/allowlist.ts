// Address allow-lists (CIDR). Which address a request comes from is the proxies' business
// (src/net/proxy-trust.ts).
export { AddressList } from '../net/forwarded.js';
