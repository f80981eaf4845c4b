// Decorators over the core's stores (notifications, metrics, the pull-through cache) override a
// few methods and must forward the rest unchanged.

/**
 * A proxy that answers `overrides` and forwards everything else to `target` (bound, so that
 * `#private` fields keep working).
 */
export function decorate<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(overrides, prop)) return (overrides as Record<PropertyKey, unknown>)[prop];
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
