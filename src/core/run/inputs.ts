// The first half of preparing a run, the same for the CLI and the studio: the parsed config, the
// normalised model, the dataset, the metrics and the fingerprints a resume is checked against.
// Nothing here needs an inference engine (open-run.ts adds it), so the studio can also use it to
// fingerprint re-picked data.
import type { AccuracyAwareParams, DefaultQuantizationParams, ParsedConfig } from '../config/types';
import { openDataset, type OpenedDataset } from '../data/dataset';
import { hashBytes } from '../data/hash';
import type { FileSource } from '../data/source';
import { normalizeModel, type NormalizeReport } from '../onnx/normalize';
import { decodeModel, type ModelProto } from '../onnx/proto';
import { QuantizeError, type MetricName } from '../types';
import { checkMetricsLabels, savingsWarnings } from '../metrics/registry';
import { modelInputShape } from './input-checks';
import { findingText, inputRange, inputRangeFinding, type SanityFinding } from './sanity';

export interface RunInputs {
  /** The parsed POT config (parsePotConfig). */
  parsed: ParsedConfig;
  /** How the config is named in messages (its path in the CLI, 'config.json' in the studio). */
  configName: string;
  modelBytes: Uint8Array;
  /** How the model is named in messages and the report (its path, or the picked file's name). */
  modelName: string;
  /** Where the dataset's paths are read from. */
  source: FileSource;
  /** Replaces engine.dataset.data_source (the CLI's --data), relative to `source`. */
  dataSource?: string;
  /** Appended to the "no data given" expectation (the CLI: ', or --data'). */
  dataHint?: string;
}

export type Algorithm = ParsedConfig['config']['compression']['algorithms'][number];

export interface PreparedInputs {
  parsed: ParsedConfig;
  configName: string;
  algorithm: Algorithm;
  params: DefaultQuantizationParams | AccuracyAwareParams;
  modelName: string;
  modelBytes: Uint8Array;
  original: ModelProto;
  /** The normalised FP32 model. */
  model: ModelProto;
  normalize: NormalizeReport;
  dataset: OpenedDataset;
  datasetConfig: ParsedConfig['config']['engine']['dataset'];
  /** The data source and labels file as named in messages. */
  files: { data: string; labels?: string };
  metrics: MetricName[];
  fingerprints: { model: string; data: string; config: string };
  /** The config's and the data's warnings, and the run's own (e.g. use_fast_bias: false). */
  warnings: string[];
  /** The model's declared per-sample input shape (-1 for a dynamic dim). */
  declaredShape: number[];
  /** Sanity findings made before the run (sanity.ts: inputs that look unpreprocessed); also in `warnings`. */
  sanity: SanityFinding[];
}

/** Runs `f`, attributing errors to the model file; a failure to load the model into the engine (an
 *  operator it lacks, a type it refuses) is bad input too. */
export async function asModelError<T>(file: string, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof QuantizeError) throw QuantizeError.inFile(e, file);
    throw new QuantizeError(`cannot be loaded for inference: ${oneLine(e)}`, {
      file,
      expected: 'a valid model of standard ONNX operators that onnxruntime implements',
    });
  }
}

/** An error's message on one line, at most 400 characters. */
export function oneLine(e: unknown): string {
  const why = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
  return why.length > 400 ? why.slice(0, 400) + '…' : why;
}

/** The metrics the run optimises: AAQ's own `metrics` when given, else the engine's. */
export function runMetrics(cfg: ParsedConfig['config']): MetricName[] {
  const algorithm = cfg.compression.algorithms[0];
  const list = algorithm.name === 'AccuracyAwareQuantization' && algorithm.params.metrics ? algorithm.params.metrics : cfg.engine.metrics;
  return [...new Set(list.map((m) => m.type ?? m.name))] as MetricName[];
}

export async function prepareInputs(inp: RunInputs): Promise<PreparedInputs> {
  const { parsed, modelName, modelBytes } = inp;
  const cfg = parsed.config;
  const original = await asModelError(modelName, () => decodeModel(modelBytes, modelName));
  const { model, report, sampleShape, layout } = await asModelError(modelName, () => {
    const n = normalizeModel(original, modelName);
    return { ...n, ...modelInputShape(n.model, cfg.engine.dataset.layout, modelName) };
  });
  const datasetConfig = { ...cfg.engine.dataset, data_source: inp.dataSource ?? cfg.engine.dataset.data_source };
  if (!datasetConfig.data_source) {
    throw new QuantizeError('no data given', {
      file: inp.configName,
      field: 'engine.dataset.data_source',
      expected: `an image folder, .npy or IDX file${inp.dataHint ?? ''}`,
    });
  }
  const dataset = await openDataset(inp.source, datasetConfig, { sampleShape, layout });
  const algorithm = cfg.compression.algorithms[0];
  const warnings = [...parsed.warnings, ...dataset.warnings];
  const rangeFinding = inputRangeFinding(await inputRange(dataset), model, datasetConfig);
  const sanity = rangeFinding ? [rangeFinding] : [];
  warnings.push(...sanity.map(findingText));
  if (algorithm.params.use_fast_bias === false && algorithm.params.bias_correction) {
    warnings.push(
      "use_fast_bias: false asks for POT's full BiasCorrection, which is not implemented; FastBiasCorrection is used (set bias_correction: false to switch bias correction off)",
    );
  }
  const metrics = runMetrics(cfg);
  checkMetricsLabels(metrics, dataset.hasLabels, { file: inp.configName });
  // A metric that cannot promise per-sample bounds turns the exact savings off, visibly.
  if (algorithm.name === 'AccuracyAwareQuantization') warnings.push(...savingsWarnings(metrics, algorithm.params));
  const resolve = (p: string) => inp.source.resolve?.(p) ?? p;
  const files = { data: resolve(datasetConfig.data_source), labels: datasetConfig.labels ? resolve(datasetConfig.labels) : undefined };
  const fingerprints = {
    model: await hashBytes(modelBytes),
    data: await dataset.fingerprint(),
    config: await hashBytes(new TextEncoder().encode(JSON.stringify({ algorithm, dataset: datasetConfig, metrics: cfg.engine.metrics }))),
  };
  return {
    parsed,
    configName: inp.configName,
    algorithm,
    params: algorithm.params,
    modelName,
    modelBytes,
    original,
    model,
    normalize: report,
    dataset,
    datasetConfig,
    files,
    metrics,
    fingerprints,
    warnings,
    declaredShape: sampleShape,
    sanity,
  };
}
