// The OCI client's public surface.
export * from './errors.js';
export * from './image-reference.js';
export * from './challenge.js';
export * from './auth.js';
export * from './http.js';
export * from './registry-client.js';
export * from './scheme.js';
export * from './docker-config.js';
export * from './host-policy.js';
