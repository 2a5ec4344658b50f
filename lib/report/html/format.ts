// Number and time formatting shared by the page sections: one place decides how a figure
// that is missing, a bound or a rate looks, so the run page and the comparison page agree.

// Figures keep up to three decimals, trailing zeros dropped; null is a dash, never 0.
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const rounded = Number(value.toFixed(digits));
  return rounded.toLocaleString('en-US', { maximumFractionDigits: digits });
}

// Packet rates read best in Mpps at NFV scale.
export function formatMpps(pps: number | null | undefined): string {
  return pps === null || pps === undefined ? '—' : formatNumber(pps / 1e6, 3);
}

// Durations from milliseconds, as a person reads them in a run summary.
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${formatNumber(s, 1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

// Trend axes need short labels: the run's UTC start, minute precision.
export function formatShortTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(5, 16).replace('T', ' ');
}
