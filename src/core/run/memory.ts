// The memory a run may keep beyond the model and its sessions: decoded samples
// (src/core/evaluation/sample-cache.ts) and activations cached for the prefix cache
// (src/core/evaluation/prefix-cache.ts). One budget, split between the two, so that the memory a run
// holds is bounded by the budget and not by the data: samples past their share are decoded again,
// activations past theirs are not cached (those candidates run whole). Results never depend on it.

/** The default budget: the two caches' earlier fixed sizes (256 MiB of samples + 192 MiB of activations). */
export const DEFAULT_MEMORY_BYTES = 448 * 2 ** 20;

/** The smallest budget accepted (below it the caches would hold almost nothing). */
export const MIN_MEMORY_BYTES = 16 * 2 ** 20;

export interface MemoryPlan {
  budgetBytes: number;
  /** Decoded, preprocessed samples kept in memory. */
  sampleCacheBytes: number;
  /** Activations cached at the prefix cache's cut points. */
  prefixCacheBytes: number;
}

/** The split of `budgetBytes`: 4/7 for samples, 3/7 for cached activations (the earlier 256:192). */
export function memoryPlan(budget = DEFAULT_MEMORY_BYTES): MemoryPlan {
  const budgetBytes = Math.max(MIN_MEMORY_BYTES, Math.floor(budget));
  const sampleCacheBytes = Math.floor((budgetBytes * 4) / 7);
  return { budgetBytes, sampleCacheBytes, prefixCacheBytes: budgetBytes - sampleCacheBytes };
}

/**
 * A budget for a browser tab: an eighth of the device's memory as the browser reports it
 * (`navigator.deviceMemory`, in GiB, rounded and capped at 8 by browsers), at most the default.
 * `undefined` (no such API): the default.
 */
export function deviceMemoryBudget(deviceMemoryGiB: number | undefined): number {
  if (!deviceMemoryGiB || !Number.isFinite(deviceMemoryGiB) || deviceMemoryGiB <= 0) return DEFAULT_MEMORY_BYTES;
  return Math.max(MIN_MEMORY_BYTES, Math.min(DEFAULT_MEMORY_BYTES, Math.floor((deviceMemoryGiB * 2 ** 30) / 8)));
}
