// Small formatters for the UI.

export function pct(x: number | undefined | null, digits = 2): string {
  return x === undefined || x === null || Number.isNaN(x) ? '—' : `${(x * 100).toFixed(digits)} %`;
}

/** A drop in percentage points (absolute) or percent (relative). */
export function dropText(x: number | undefined | null, type: 'absolute' | 'relative' = 'absolute'): string {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  return type === 'absolute' ? `${(x * 100).toFixed(2)} pp` : `${(x * 100).toFixed(2)} %`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function when(t: number): string {
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
