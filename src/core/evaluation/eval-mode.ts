// How candidate configurations are evaluated, and how AAQ picks the faster way.
//
// Both ways compute the same numbers bit for bit (the per-configuration fake-quant model under
// FAKE_QUANT_SESSION_OPTIONS and the switchable session under EXACT_SESSION_OPTIONS run the same
// kernels on the same values), so the choice changes the cost, never a result or a decision.
//  - 'auto' (the default): the mode the bench measured faster on this back end, declared by the
//    engine (defaultMode in src/core/engine/traits.ts, with the measurements) —
//    deterministic, so two runs of one config write the same report (session counts included).
//  - 'calibrate': measure at run time. The first evaluation of a quantized configuration with ≥ 5
//    batches runs batches on each kind of session (their outputs are used; one batch runs on both,
//    to check that they agree bit for bit), then each later evaluation goes to whichever is cheaper
//    for it: a session per configuration costs its set-up once per configuration, the switchable
//    session may cost more per sample — so a full pass may get its own session while a candidate
//    scored on a handful of samples (lazy_ranking) is fed to the switchable one. Should the check
//    find a difference, the run keeps to the mode that is cheaper for a candidate of min(N, 300)
//    samples. Decisions are the same as with 'auto'; timings and session counts vary.

export type EvalMode = 'switchable' | 'session-per-config';
export type EvalModeOption = EvalMode | 'auto' | 'calibrate';

export interface ModeCalibration {
  /** Samples per timed batch. */
  batch: number;
  switchable: { setupMs: number; msPerSample: number };
  /** setupMs: building the model, creating the session and its first-run overhead (per candidate). */
  perConfig: { setupMs: number; msPerSample: number };
  /** The candidate size the costs are compared at (POT's ranking subset: min(N, 300)). */
  candidateSamples: number;
  /** Cost of one candidate of `candidateSamples` samples, per mode. */
  candidateMs: Record<EvalMode, number>;
  /** The faster mode for such a candidate. */
  chosen: EvalMode;
  /** Both sessions gave the same outputs bit for bit on a calibration batch (then each evaluation
   *  picks its cheaper mode; otherwise the run keeps to `chosen`). */
  identical?: boolean;
  /** Sample inferences the calibration ran twice (for the check). */
  checkSamples?: number;
}

/** How the evaluations of a run were spread over the modes. */
export type ModeUse = Record<EvalMode, { calls: number; samples: number }>;

/** The cheaper mode for one evaluation of `k` samples (`open`: a session for this configuration exists). */
export function modeFor(c: ModeCalibration, k: number, open: boolean): EvalMode {
  if (!c.identical) return c.chosen;
  const pc = (open ? 0 : c.perConfig.setupMs) + k * c.perConfig.msPerSample;
  return pc < k * c.switchable.msPerSample ? 'session-per-config' : 'switchable';
}

/** The cheaper mode for candidates of `k` samples; the switchable session's one-off creation is amortised away. */
export function chooseMode(batch: number, k: number, sw: { setupMs: number; msPerSample: number }, pc: { setupMs: number; msPerSample: number }): ModeCalibration {
  const candidateMs = { switchable: k * sw.msPerSample, 'session-per-config': pc.setupMs + k * pc.msPerSample };
  const chosen: EvalMode = candidateMs['session-per-config'] < candidateMs.switchable ? 'session-per-config' : 'switchable';
  return { batch, switchable: sw, perConfig: pc, candidateSamples: k, candidateMs, chosen };
}
