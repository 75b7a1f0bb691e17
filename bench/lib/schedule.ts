// POT's evaluation schedule for the decisions a run took (POT `accuracy_aware_common/algorithm.py`:
// `run`, `_change_quantization_scope`, `_get_node_importance`), as a
// count of sample inferences, from the run's report: FP32 baseline + statistics + the quantized
// pass (+ mixed preset, tuning) + each ranking's groups × subset + one full pass per iteration.
import type { RunReport } from '../../src/core/report';
import type { AccuracyAwareParams } from '../../src/core/config/types';

export interface PotSchedule {
  baseline: number;
  statistics: number;
  quantized: number;
  mixed: number;
  tuning: number;
  rankings: number;
  iterations: number;
  total: number;
}

export function potSchedule(r: RunReport): PotSchedule {
  const N = r.data.size;
  const p = r.params as AccuracyAwareParams;
  const a = r.aaq;
  const baselineGiven = !!p.metrics?.length && p.metrics.every((m) => m.baseline_value !== undefined) && !p.annotation_free;
  const baseline = baselineGiven ? (a?.diffSubsetSize ?? 0) : N;
  const statistics = Math.min(p.stat_subset_size, N);
  const quantized = N;
  const mixed = a?.mixed ? N : 0;
  const tuning = a?.tuning ? a.tuning.runs.length * Math.min(p.ranking_subset_size ?? Math.min(N, 300), a.diffSubsetSize) + N : 0;
  const rankings = (a?.rankings ?? []).reduce((s, k) => s + k.scores.length * k.subsetSize, 0);
  const iterations = (a?.history.length ?? 0) * N;
  return { baseline, statistics, quantized, mixed, tuning, rankings, iterations, total: baseline + statistics + quantized + mixed + tuning + rankings + iterations };
}
