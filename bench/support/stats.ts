/** Small numeric helpers shared by the phases and the report. */

/** Median of the finite values, or `null` when there are none. */
export function median(values: ReadonlyArray<number | null>): number | null {
  const xs = values
    .filter((v): v is number => v !== null && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Nearest-rank percentile (`p` in 0..100) of a non-empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty sample');
  const xs = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * xs.length);
  return xs[Math.min(xs.length - 1, Math.max(0, rank - 1))];
}

/** Wall-clock milliseconds comparable across processes on one machine (sub-millisecond precision). */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Splits `[0, n)` into consecutive batches of at most `size` numbers. */
export function batches(n: number, size: number, offset = 0): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < n; start += size) {
    const len = Math.min(size, n - start);
    out.push(Array.from({ length: len }, (_, i) => offset + start + i));
  }
  return out;
}
