/** Number formatting shared by the table and the comparison: one rule for ms, rates and ratios. */

/** ms with 3 significant-ish digits; null with requests behind it is ∞ (a failure at that rank). */
export function fmtMs(v: number | null | undefined, hadRequests = true): string {
  if (v === null || v === undefined || Number.isNaN(v)) return hadRequests && v === null ? '∞' : '-';
  if (v < 10) return v.toFixed(2);
  if (v < 100) return v.toFixed(1);
  return v.toFixed(0);
}

export function fmtRate(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
}

export function fmtPercent(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  return `${(v * 100).toFixed(v >= 0.9995 || v === 0 ? 0 : 1)}%`;
}

export function fmtRatio(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return `${v.toFixed(2)}x`;
}

/** `QUEUE_FULL 12, TIMEOUT 3` */
export function fmtFailures(failures: Record<string, number>): string {
  const parts = Object.entries(failures).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : '0';
}
