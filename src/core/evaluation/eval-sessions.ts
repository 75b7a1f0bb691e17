// The inference sessions a backend evaluates on — FP32, the switchable fake-quant graph, a
// session per configuration — and the choice between the last two (eval-mode.ts).
import type { Evaluator } from '../engine/runner';
import { encodeModel, type ModelProto } from '../onnx/proto';
import { EXACT_SESSION_OPTIONS, type SwitchLayout } from '../quant/switchable';
import type { Dataset, Engine, SessionInfo, TensorData } from '../types';
import type { QuantState } from '../algorithms/backend';
import { FAKE_QUANT_SESSION_OPTIONS, type CandidateModels } from './candidate-models';
import { planPrefixCuts } from '../quant/prefix-cuts';
import { PrefixCache, sameFeed } from './prefix-cache';
import { chooseMode, modeFor, type EvalMode, type EvalModeOption, type ModeCalibration, type ModeUse } from './eval-mode';

/** A ranking arms prefix_cache only with at least this many candidates (and 1.5 per cut used). */
export const PREFIX_MIN_CANDIDATES = 8;

/** FP32 and switchable sessions run under options that keep "all quantizers off" bit-exact with FP32. */
const EXACT_OPTIONS = EXACT_SESSION_OPTIONS as unknown as Record<string, unknown>;

export interface EvalSessionsOptions {
  /** The FP32 session's options (default: the exact options). */
  fp32Options?: Record<string, unknown>;
  engine: Engine;
  model: ModelProto;
  dataset: Dataset;
  candidates: CandidateModels;
  evaluator: Evaluator;
  inputName: string;
  outputName: string;
  batchSize: number;
  flavor: 'qdq' | 'float';
  gate: 'where' | 'if';
  mode: EvalModeOption;
  perConfig: 'fake-quant' | 'qdq';
  /** Resume ranking candidates from cached activations (prefix-cache.ts); switchable mode only. */
  prefixCache?: boolean;
  /** Bytes of activations the prefix cache may keep (default 192 MiB). */
  prefixCacheBytes?: number;
  /** Adds a phase's wall time to the backend's timings. */
  time: <T>(phase: string, p: Promise<T>) => Promise<T>;
}

export class EvalSessions {
  private fp32?: SessionInfo;
  private switchable?: { session: SessionInfo; layout: SwitchLayout };
  private perConfig?: { key: string; session: SessionInfo };
  /** prefix_cache over the switchable session (created with it, when the graph has cut points). */
  prefix?: PrefixCache;
  /** What 'calibrate' measured and chose (absent until a quantized evaluation had ≥ 5 batches). */
  calibration?: ModeCalibration;
  /** Evaluations of quantized configurations per mode. */
  readonly use: ModeUse = { switchable: { calls: 0, samples: 0 }, 'session-per-config': { calls: 0, samples: 0 } };

  constructor(private readonly o: EvalSessionsOptions) {}

  /** The mode in use ('auto': the measured default of the back end; 'calibrate': the calibrated one). */
  get mode(): EvalMode {
    const m = this.o.mode;
    if (m === 'auto') return this.o.engine.traits.defaultMode;
    return m === 'calibrate' ? (this.calibration?.chosen ?? this.o.engine.traits.defaultMode) : m;
  }

  /** The mode of one evaluation of `k` samples ('calibrate': per the calibration). */
  private modeFor(state: QuantState, k: number): EvalMode {
    if (this.o.mode !== 'calibrate' || !this.calibration) return this.mode;
    return modeFor(this.calibration, k, this.perConfig?.key === configKey(state));
  }

  private async switchableSession(): Promise<{ session: SessionInfo; layout: SwitchLayout }> {
    if (!this.switchable) {
      const built = this.o.candidates.switchable(this.o.flavor, this.o.gate);
      const plan =
        this.o.prefixCache && this.o.engine.traits.prefixCache ? planPrefixCuts(built.model, built.layout, this.o.inputName, this.o.outputName, this.o.dataset.sampleShape) : null;
      const session = await this.o.time('sessions', this.o.engine.createSession(encodeModel(plan?.model ?? built.model), EXACT_OPTIONS));
      this.switchable = { session, layout: built.layout };
      if (plan) {
        this.prefix = new PrefixCache({
          engine: this.o.engine,
          evaluator: this.o.evaluator,
          dataset: this.o.dataset,
          plan,
          inputName: this.o.inputName,
          outputName: this.o.outputName,
          batchSize: this.o.batchSize,
          sessionOptions: EXACT_OPTIONS,
          budgetBytes: this.o.prefixCacheBytes,
          time: this.o.time,
        });
      }
    }
    return this.switchable;
  }

  async sessionFor(state: QuantState | null, mode = this.mode): Promise<{ session: SessionInfo; feeds: Record<string, TensorData> }> {
    if (!state) {
      this.fp32 ??= await this.o.time('sessions', this.o.engine.createSession(encodeModel(this.o.model), this.o.fp32Options ?? EXACT_OPTIONS));
      return { session: this.fp32, feeds: {} };
    }
    await this.releaseFp32(); // one session alive at a time: its memory (and its idle threads) go
    if (mode === 'switchable') {
      const sw = await this.switchableSession();
      return { session: sw.session, feeds: this.o.candidates.feeds(sw.layout, state) };
    }
    const key = configKey(state);
    if (this.perConfig?.key !== key) {
      if (this.perConfig) await this.o.engine.release(this.perConfig.session);
      delete this.perConfig;
      const int8 = this.o.perConfig === 'qdq';
      const model = int8 ? this.o.candidates.exportModel(state) : this.o.candidates.fakeQuantModel(state);
      const session = await this.o.time('sessions', this.o.engine.createSession(encodeModel(model), int8 ? undefined : FAKE_QUANT_SESSION_OPTIONS));
      this.perConfig = { key, session };
    }
    return { session: this.perConfig.session, feeds: {} };
  }

  /** Outputs (and labels) of FP32 (`state` null) or a configuration on `idxs`, on the cheaper session. */
  async run(state: QuantState | null, idxs: number[], progress?: (d: number, t: number) => void): Promise<{ outputs: TensorData[]; labels: number[] }> {
    const B = this.o.batchSize;
    if (state && this.o.mode === 'calibrate' && !this.calibration && idxs.length >= 5 * B) {
      return this.o.time('evaluate', this.calibrate(state, idxs, B, progress));
    }
    const mode = state ? this.modeFor(state, idxs.length) : this.mode;
    const { session, feeds } = await this.sessionFor(state, mode);
    if (state) {
      this.use[mode].calls++;
      this.use[mode].samples += idxs.length;
    }
    if (state && mode === 'switchable' && this.prefix && this.o.evaluator.batchMode(session)?.kind === 'dynamic') {
      return this.o.time('evaluate', this.prefix.run(session, feeds, idxs, progress));
    }
    return this.o.time(
      state ? 'evaluate' : 'evaluate_fp32',
      this.o.evaluator.run(session, this.o.dataset, idxs, {
        inputName: this.o.inputName,
        outputName: this.o.outputName,
        batchSize: B,
        extraFeeds: feeds,
        progress,
      }),
    );
  }

  /**
   * 'calibrate' (eval-mode.ts): evaluate `idxs` with batch 1 on the switchable session (its set-up),
   * batches 2 and 3 on it (timed), batch 3 again on a session built for `state` (its set-up, and
   * the bit-for-bit check), batches 4 and 5 on that one (timed), the rest on the cheaper mode.
   * The faster of two timed batches counts, which discounts interference from other processes.
   */
  private async calibrate(state: QuantState, idxs: number[], B: number, progress?: (d: number, t: number) => void): Promise<{ outputs: TensorData[]; labels: number[] }> {
    const outputs: TensorData[] = [];
    const labels: number[] = [];
    let done = 0;
    const run = async (mode: EvalMode, part: number[], keep = true) => {
      const t0 = performance.now();
      const sf = await this.sessionFor(state, mode);
      const r = await this.o.evaluator.run(sf.session, this.o.dataset, part, { inputName: this.o.inputName, outputName: this.o.outputName, batchSize: B, extraFeeds: sf.feeds });
      if (keep) {
        outputs.push(...r.outputs);
        labels.push(...r.labels);
        progress?.((done += part.length), idxs.length);
        this.use[mode].calls++;
        this.use[mode].samples += part.length;
      }
      return { ms: performance.now() - t0, outputs: r.outputs };
    };
    const b = (k: number) => idxs.slice(k * B, (k + 1) * B);
    const swFirst = await run('switchable', b(0));
    const sw1 = await run('switchable', b(1));
    const sw2 = await run('switchable', b(2));
    const sw = Math.min(sw1.ms, sw2.ms);
    const pcFirst = await run('session-per-config', b(2), false);
    const pc = Math.min((await run('session-per-config', b(3))).ms, (await run('session-per-config', b(4))).ms);
    const cal = chooseMode(
      B,
      Math.min(this.o.dataset.size, 300),
      { setupMs: Math.max(0, swFirst.ms - sw), msPerSample: sw / B },
      { setupMs: Math.max(0, pcFirst.ms - pc), msPerSample: pc / B },
    );
    cal.identical = sw2.outputs.every((o, k) => sameBits(o.data as Float32Array, pcFirst.outputs[k].data as Float32Array));
    cal.checkSamples = B;
    this.calibration = cal;
    const rest = idxs.slice(5 * B);
    if (rest.length) await run(modeFor(cal, rest.length, true), rest);
    return { outputs, labels };
  }

  /**
   * Before a ranking scores the candidates `cands` (the ranked state with one group reverted):
   * arms the prefix cache and returns their positions in the order to evaluate them — the
   * candidate whose first changed node is deepest first, so the cache it fills serves the others.
   * Identity order when there is no cache.
   */
  async prepareRanking(state: QuantState, cands: QuantState[]): Promise<number[]> {
    const ids = cands.map((_, i) => i);
    // Bit-exactness of resumed candidates is verified on the CPU engines (tests); not on WebGPU.
    if ((this.o.mode !== 'auto' && this.o.mode !== 'switchable') || this.mode !== 'switchable' || !this.o.prefixCache || !this.o.engine.traits.prefixCache) return ids;
    const sw = await this.switchableSession();
    const prefix = this.prefix;
    if (!prefix) return ids;
    const base = this.o.candidates.feeds(sw.layout, state);
    const depth = cands.map((c) => {
      const f = this.o.candidates.feeds(sw.layout, c);
      return prefix.firstRead(Object.keys(f).filter((k) => !sameFeed(f[k], base[k])));
    });
    // Each cut a candidate resumes from costs a suffix session and a capture: worth it only over
    // enough candidates (a deterministic rule, so the sessions a run creates do not vary).
    const cuts = prefix.cutsFor(depth);
    if (cuts > 0 && cands.length >= Math.max(PREFIX_MIN_CANDIDATES, 1.5 * cuts)) prefix.arm(depth);
    return ids.sort((a, b) => depth[b] - depth[a] || a - b);
  }

  /** Releases the FP32 session (made again if FP32 outputs are asked later: after the baseline
   *  they rarely are). At 224 pixels its arena holds hundreds of MB. */
  async releaseFp32(): Promise<void> {
    const s = this.fp32;
    delete this.fp32;
    if (s) await this.o.engine.release(s);
  }

  async dispose(): Promise<void> {
    await this.prefix?.dispose();
    delete this.prefix;
    for (const s of [this.fp32, this.switchable?.session, this.perConfig?.session]) if (s) await this.o.engine.release(s);
    delete this.fp32;
    delete this.switchable;
    delete this.perConfig;
  }
}

/** Identity of a configuration's per-configuration session. */
function configKey(state: QuantState): string {
  return JSON.stringify([state.enabled, state.quantizers, state.biases]);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
