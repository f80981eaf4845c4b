// Bounded parallelism for the core's storage walks (a stat per link, a read per manifest):
// enough in flight to hide latency, few enough to leave the registry room to serve.

export async function forEachLimit<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  const lane = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) await work(next.value);
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
}
