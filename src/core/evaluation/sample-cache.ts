// A Dataset wrapper that keeps decoded, preprocessed samples in memory up to a byte budget: AAQ
// reads the same validation samples dozens of times (every ranking candidate, every pass), and
// decoding an image costs as much as running a small model on it.
import type { Dataset, Sample } from '../types';

export const DEFAULT_SAMPLE_CACHE_BYTES = 256 * 2 ** 20;

export function cachedDataset(ds: Dataset, maxBytes = DEFAULT_SAMPLE_CACHE_BYTES): Dataset {
  const cache = new Map<number, Promise<Sample>>();
  const perSample = 4 * ds.sampleShape.reduce((a, b) => a * Math.max(1, b), 1);
  const capacity = maxBytes > 0 ? Math.floor(maxBytes / Math.max(1, perSample)) : 0;
  if (capacity === 0) return ds;
  return {
    size: ds.size,
    sampleShape: ds.sampleShape,
    hasLabels: ds.hasLabels,
    ...(ds.classNames ? { classNames: ds.classNames } : {}),
    fingerprint: () => ds.fingerprint(),
    get(index: number): Promise<Sample> {
      const hit = cache.get(index);
      if (hit) return hit;
      const p = ds.get(index);
      // Samples past the budget are read every time (first come, first kept); a failed read is not kept.
      if (cache.size < capacity) {
        cache.set(index, p);
        p.catch(() => cache.delete(index));
      }
      return p;
    },
  };
}
