// What verifying one signature comes to: accepted, naming the key or identity that signed, or
// refused with the reason (kept in the verdict so an operator sees why an image is unsigned).
export type Check = { ok: true; by: string; at?: Date | undefined } | { ok: false; reason: string };

export const accept = (by: string, at?: Date): Check => ({ ok: true, by, ...(at ? { at } : {}) });
export const refuse = (reason: string): Check => ({ ok: false, reason });
