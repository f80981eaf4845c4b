// The local client configuration for one registry, under --root: containerd (config.toml and
// hosts.toml), Docker (daemon.json and certs.d) and Podman (registries.conf and its drop-ins),
// each also asked, where it runs, whether it uses what its files say.
export type { LocalContext } from './context.js';
export { checkContainerd } from './containerd.js';
export { checkDocker } from './docker.js';
export { checkPodman } from './podman.js';
