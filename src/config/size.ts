// Byte sizes as the configuration writes them ("10GiB", "512MB", "0"): binary and decimal units.

const UNITS: Record<string, number> = {
  B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40,
};

export function parseByteSize(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?$/.exec(text.trim());
  const unit = m ? UNITS[m[2] ?? 'B'] : undefined;
  if (!m || unit === undefined) throw new Error(`invalid size "${text}"`);
  return Math.floor(Number(m[1]) * unit);
}
