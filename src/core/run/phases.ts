// What people are told about where a run is: the AccuracyAwareQuantization phase a run state will
// run next (history.ts), named as the studio's stage list and the CLI's progress name it, and the
// stages that are finished when a run resumes from that phase.
import type { AaqPhase } from '../algorithms/history';

const LABELS: Record<AaqPhase, string> = {
  baseline: 'FP32 baseline',
  quantize: 'Default INT8',
  mixed: 'Mixed preset',
  'fp32-subset': 'Ranking',
  tuning: 'Tuning',
  'tuning-apply': 'Tuning',
  rank: 'Ranking',
  iterate: 'Iterations',
  done: 'Export',
};

/** The user-facing name of a phase ('rank' → 'Ranking'); an unknown phase is returned as is. */
export function phaseLabel(phase: string): string {
  return (LABELS as Record<string, string>)[phase] ?? phase;
}

/** The progress stages (RunEvent.stage) a run has finished when its state is at `phase`. The
 *  optional stages (mixed preset, tuning) are left out: whether they ran is in the events only. */
export function stagesDoneBefore(phase: string): string[] {
  const order: string[][] = [[], ['baseline'], ['statistics', 'quantized-eval'], ['ranking'], ['iteration']];
  const level: Record<string, number> = { baseline: 0, quantize: 1, mixed: 2, 'fp32-subset': 2, tuning: 2, 'tuning-apply': 2, rank: 2, iterate: 3, done: 4 };
  return order.slice(0, (level[phase] ?? -1) + 1).flat();
}
