// Fastify's schema compilers (Ajv, fast-json-stringify: ~110 modules) loaded on first use. The
// registry API declares no route schemas, so a registry without the admin API never loads them;
// Fastify would otherwise require both when the app is created (idle memory, start time: the
// lazy-load rule in DESIGN.md). Fastify's documented `schemaController.compilersFactory` hook.
import { createRequire } from 'node:module';

// Resolved from Fastify's own location: they are its dependencies, not Berth's.
const requireFromFastify = createRequire(import.meta.resolve('fastify'));

type Factory = (...args: unknown[]) => unknown;

/** One factory per module, made on first call (each caches its compilers, as Fastify's default does). */
function onFirstUse(name: string): Factory {
  let factory: Factory | undefined;
  return (...args) => {
    factory ??= (requireFromFastify(name) as () => Factory)();
    return factory(...args);
  };
}

export const lazySchemaCompilers = {
  compilersFactory: {
    buildValidator: onFirstUse('@fastify/ajv-compiler'),
    buildSerializer: onFirstUse('@fastify/fast-json-stringify-compiler'),
  },
};
