// Reading untyped results.json values: what figures and conditions both need.
export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
/** 0.001 * 100 is 0.1, but 0.07 * 100 is 7.000000000000001: six digits say the same. */
export const percent = (v: unknown, scale = 1): string | null => (typeof v === 'number' ? `${Number((v * scale).toPrecision(6))} %` : null);
