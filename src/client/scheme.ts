// Docker's rule for registries it may speak plain HTTP to (loopback, or declared insecure):
// try HTTPS first and fall back to HTTP when the server does not speak TLS.
import { Agent, request } from 'undici';

export function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0]!;
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** True when `host` answers plain HTTP but not HTTPS. */
export async function speaksOnlyHttp(host: string, timeoutMs = 3000): Promise<boolean> {
  const agent = new Agent({ connect: { rejectUnauthorized: false, timeout: timeoutMs } });
  try {
    const res = await request(`https://${host}/v2/`, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return false;
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? (err as { cause?: { code?: unknown } }).cause?.code ?? '');
    const message = String((err as Error).message);
    if (!/EPROTO|SSL|ECONNRESET|UND_ERR_SOCKET/i.test(code + message)) return false;
    try {
      const res = await request(`http://${host}/v2/`, { dispatcher: agent, signal: AbortSignal.timeout(timeoutMs) });
      await res.body.dump();
      return true;
    } catch {
      return false;
    }
  } finally {
    await agent.close();
  }
}
