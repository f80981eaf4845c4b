// Bounded parallelism for the many small calls a GC or an eviction makes: the core's own helper,
// so features and core share one notion of "enough in flight".
export { forEachLimit } from '../registry/parallel.js';
