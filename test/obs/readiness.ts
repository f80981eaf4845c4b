// What the /readyz tests share: one readiness request, and polling until a state is reached.
import type { TestRegistry } from '../support/registry-server.js';

export interface ReadyBody {
  status: string;
  failing: string[];
  checks: Record<string, { status: string; error?: string }>;
}

export async function ready(reg: TestRegistry): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`${reg.url}/readyz`);
  return { status: res.status, body: await res.json() as ReadyBody };
}

/** Probes until `done` holds or `timeoutMs` passes; returns the last value either way. */
export async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
