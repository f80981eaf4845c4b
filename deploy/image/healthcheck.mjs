// The container image's health check (OCI images carry no HEALTHCHECK, so podman, docker and
// compose name this command): exits 0 when Berth's /readyz answers 200 on its listener.
// The image has no curl or shell; its Node runtime does the request.
const addr = process.env.REGISTRY_HTTP_ADDR ?? ':5000';
const port = addr.slice(addr.lastIndexOf(':') + 1) || '5000';
const scheme = process.env.REGISTRY_HTTP_TLS_CERTIFICATE ? 'https' : 'http';
if (scheme === 'https') process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

try {
  const res = await fetch(`${scheme}://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  if (res.status !== 200) {
    process.stderr.write(`berth healthcheck: /readyz answered ${res.status}: ${body}\n`);
    process.exit(1);
  }
} catch (err) {
  process.stderr.write(`berth healthcheck: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
