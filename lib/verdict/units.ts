// Limits and measurements may use different units (a profile in µs, an agent in ns);
// comparing them is only safe after converting within one dimension.

// Scales are powers of ten, so that 1 ms is exactly 1000 us (1e-3 / 1e-6 is not).
const SCALE: Record<string, { dimension: string; exponent: number; label: string }> = {
  ns: { dimension: 'time', exponent: -9, label: 'ns' },
  us: { dimension: 'time', exponent: -6, label: 'us' },
  ms: { dimension: 'time', exponent: -3, label: 'ms' },
  s: { dimension: 'time', exponent: 0, label: 's' },
  pps: { dimension: 'rate', exponent: 0, label: 'pps' },
  kpps: { dimension: 'rate', exponent: 3, label: 'kpps' },
  mpps: { dimension: 'rate', exponent: 6, label: 'Mpps' },
  bps: { dimension: 'bitrate', exponent: 0, label: 'bit/s' },
  gbps: { dimension: 'bitrate', exponent: 9, label: 'Gbit/s' },
  percent: { dimension: 'ratio', exponent: 0, label: '%' },
  count: { dimension: 'count', exponent: 0, label: '' },
};

export const UNITS = Object.keys(SCALE);

// Throws on a cross-dimension conversion: that is a bug in a suite, not a measurement.
export function convert(value: number, from: string, to: string): number {
  const a = SCALE[from];
  const b = SCALE[to];
  if (!a || !b) throw new Error(`unknown unit ${!a ? from : to}`);
  if (a.dimension !== b.dimension) throw new Error(`cannot convert ${from} to ${to}`);
  if (from === to) return value;
  const shift = a.exponent - b.exponent;
  return shift >= 0 ? value * 10 ** shift : value / 10 ** -shift;
}

/** `3021 us`, `0.5 %`, `12` — figures as people read them in JUnit. */
export function formatValue(value: number, unit: string): string {
  const label = SCALE[unit]?.label ?? unit;
  const rounded = Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(4));
  return label ? `${rounded} ${label}` : String(rounded);
}
