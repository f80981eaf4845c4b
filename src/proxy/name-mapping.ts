// Which upstream a repository name belongs to, its name there, and its name here (where the
// cached copy is stored). The rules, in order:
// 1. Distribution mode (`proxy.remoteurl`): every name is the upstream's, unchanged.
// 2. `?ns=<host>` claimed by an upstream's `namespaces` (containerd mirror mode): `<name>` there,
//    `<upstream>/<name>` here.
// 3. A name under an upstream's prefix, `<upstream>/<rest>`: `<rest>` there.
// 4. The `root: true` upstream (dockerd's registry-mirrors sends no prefix): any other name that
//    does not exist locally, `<name>` there, `<root>/<name>` here. Pushes to such a name are not
//    proxied: they create an ordinary local repository, which then shadows the upstream's.
// Docker Hub's rule applies on its upstreams: a single-component name means `library/<name>`.
import type { Upstream } from './upstreams.js';

export interface ProxyRoute {
  upstream: Upstream;
  /** The repository on the upstream. */
  remote: string;
  /** The repository the cached copy lives in here. */
  local: string;
}

export class NameMapper {
  readonly #upstreams: Upstream[];
  readonly #existsLocally: (name: string) => Promise<boolean>;

  constructor(upstreams: Upstream[], existsLocally: (name: string) => Promise<boolean>) {
    this.#upstreams = upstreams;
    this.#existsLocally = existsLocally;
  }

  /** Where a pull of `name` goes; undefined for an ordinary local repository. */
  async route(name: string, ns: string | undefined): Promise<ProxyRoute | undefined> {
    const fixed = this.owner(name, ns);
    if (fixed) return fixed;
    const root = this.#upstreams.find((u) => u.root);
    if (!root || (await this.#existsLocally(name))) return undefined;
    const remote = remoteName(root, name);
    return { upstream: root, remote, local: `${root.name}/${remote}` };
  }

  /**
   * The stored repository a pull of `name` reads when that is another name (rules 2 and 4), so
   * access control can demand pull rights on it too: the operator's restrictions on the cache's
   * project must hold whatever name the client asked for.
   */
  async alsoRequired(name: string, ns: string | undefined): Promise<string[]> {
    const r = await this.route(name, ns);
    return r && r.local !== name ? [r.local] : [];
  }

  /** The route by rules 1-3 only: names that are a cache whatever exists locally (writes are refused there). */
  owner(name: string, ns: string | undefined): ProxyRoute | undefined {
    const whole = this.#upstreams.find((u) => u.prefix === undefined);
    if (whole) return { upstream: whole, remote: remoteName(whole, name), local: name };
    const host = ns?.toLowerCase();
    const claimed = host ? this.#upstreams.find((u) => u.namespaces.includes(host)) : undefined;
    if (claimed) {
      const remote = remoteName(claimed, name);
      return { upstream: claimed, remote, local: `${claimed.name}/${remote}` };
    }
    const prefixed = this.#upstreams.find((u) => u.prefix !== undefined && name.startsWith(`${u.prefix}/`));
    if (prefixed) return { upstream: prefixed, remote: remoteName(prefixed, name.slice(prefixed.name.length + 1)), local: name };
    return undefined;
  }
}

function remoteName(u: Upstream, name: string): string {
  return u.dockerHub && !name.includes('/') ? `library/${name}` : name;
}
