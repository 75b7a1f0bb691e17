// Everything a Node run needs, from a config file and CLI overrides: the parsed config, the
// normalised model, the dataset, the engine and the quantization backend.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parsePotConfig } from '../core/config/parse';
import type { AccuracyAwareParams, DefaultQuantizationParams, ParsedConfig } from '../core/config/types';
import { openDataset, type OpenedDataset } from '../core/data/dataset';
import { hashBytes } from '../core/data/hash';
import { decodeModel, MAX_MODEL_BYTES, type ModelProto } from '../core/onnx/proto';
import { normalizeModel, type NormalizeReport } from '../core/onnx/normalize';
import { checkLabels, modelInputShape } from '../core/run/input-checks';
import { OnnxQuantizationBackend, type EvalModeOption } from '../core/evaluation/onnx-backend';
import { QuantizeError, type MetricName } from '../core/types';
import { createNodeEngine, type NodeEngineKind } from './engines';
import { FsSource } from './fs-source';
import type { OrtEngine } from '../core/engine/ort-common';

export interface RunSetupOptions {
  config: string;
  model?: string;
  data?: string;
  engine?: NodeEngineKind;
  batch?: number;
  /** How candidate configurations are evaluated (default 'auto': the back end's measured faster mode). */
  mode?: EvalModeOption;
  threads?: number;
}

export interface RunSetup {
  parsed: ParsedConfig;
  algorithm: ParsedConfig['config']['compression']['algorithms'][number];
  modelPath: string;
  modelBytes: Uint8Array;
  original: ModelProto;
  model: ModelProto;
  normalize: NormalizeReport;
  dataset: OpenedDataset;
  engine: OrtEngine;
  backend: OnnxQuantizationBackend;
  metrics: MetricName[];
  fingerprints: { model: string; data: string; config: string };
}

export { modelInputShape };

/** The size of a regular file, or a QuantizeError naming it (missing, a folder, …). */
function fileSize(path: string, expected: string): number {
  const st = existsSync(path) ? statSync(path) : undefined;
  if (!st) throw new QuantizeError('no such file', { file: path, expected });
  if (!st.isFile()) throw new QuantizeError(st.isDirectory() ? 'is a folder, not a file' : 'is not a regular file', { file: path, expected });
  return st.size;
}

function readConfig(path: string): ParsedConfig {
  fileSize(path, 'a POT config file (JSON with comments)');
  return parsePotConfig(readFileSync(path, 'utf8'), path);
}

/** The model file, checked against the size limit before it is read. */
function readModel(path: string): Uint8Array {
  const size = fileSize(path, 'an .onnx model');
  if (size > MAX_MODEL_BYTES) {
    throw new QuantizeError(`the file is ${size} bytes (${(size / 2 ** 20).toFixed(1)} MiB), over the limit`, { file: path, expected: `a model of at most ${MAX_MODEL_BYTES / 2 ** 20} MiB` });
  }
  return new Uint8Array(readFileSync(path));
}

/** Runs `f`, attributing model errors to the model file; a failure to load the model into the
 *  engine (an operator it lacks, a type it refuses) is bad input too. */
async function asModelError<T>(file: string, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof QuantizeError) throw QuantizeError.inFile(e, file);
    const why = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
    throw new QuantizeError(`cannot be loaded for inference: ${why.length > 400 ? why.slice(0, 400) + '…' : why}`, {
      file, expected: 'a valid model of standard ONNX operators that onnxruntime implements',
    });
  }
}

export async function prepareRun(opts: RunSetupOptions): Promise<RunSetup> {
  const configPath = resolve(opts.config);
  const parsed = readConfig(configPath);
  const cfgDir = dirname(configPath);
  const cfg = parsed.config;
  const modelPath = opts.model ? resolve(opts.model) : cfg.model.model ? resolve(cfgDir, cfg.model.model) : '';
  if (!modelPath) throw new QuantizeError('no model given', { file: configPath, field: 'model.model', expected: 'a path to an .onnx file, or --model' });
  const modelBytes = readModel(modelPath);
  const original = decodeModel(modelBytes, modelPath);
  const { model, report, sampleShape, layout } = await asModelError(modelPath, () => {
    const n = normalizeModel(original, modelPath);
    return { ...n, ...modelInputShape(n.model, cfg.engine.dataset.layout, modelPath) };
  });
  const dataRoot = opts.data ? process.cwd() : cfgDir;
  const datasetCfg = { ...cfg.engine.dataset, data_source: opts.data ?? cfg.engine.dataset.data_source };
  if (!datasetCfg.data_source) throw new QuantizeError('no data given', { file: configPath, field: 'engine.dataset.data_source', expected: 'an image folder, .npy or IDX file, or --data' });
  const source = new FsSource(dataRoot);
  const dataset = await openDataset(source, datasetCfg, { sampleShape, layout });
  const algorithm = cfg.compression.algorithms[0];
  if (algorithm.params.use_fast_bias === false && algorithm.params.bias_correction) {
    parsed.warnings.push('use_fast_bias: false asks for POT\'s full BiasCorrection, which is not implemented; FastBiasCorrection is used (set bias_correction: false to switch bias correction off)');
  }
  const metrics = [...new Set((algorithm.name === 'AccuracyAwareQuantization' && algorithm.params.metrics ? algorithm.params.metrics : cfg.engine.metrics).map((m) => m.type ?? m.name))] as MetricName[];
  if (!dataset.hasLabels && metrics.some((m) => m !== 'agreement@top1')) {
    throw new QuantizeError(`the data has no labels, but the metric ${metrics.find((m) => m !== 'agreement@top1')} needs them`, { file: configPath, field: 'engine.metrics', expected: 'labels (class subfolders or a labels file), or the metric agreement@top1' });
  }
  const files = { data: source.resolve(datasetCfg.data_source), labels: datasetCfg.labels ? source.resolve(datasetCfg.labels) : undefined };
  const engine = await createNodeEngine(opts.engine ?? 'native', { threads: opts.threads });
  const params = algorithm.params as DefaultQuantizationParams | AccuracyAwareParams;
  let backend: OnnxQuantizationBackend | undefined;
  try {
    const b = (backend = await asModelError(modelPath, () => new OnnxQuantizationBackend({
      engine, model, dataset, metrics, placementParams: params, batchSize: opts.batch ?? 16,
      flavor: 'qdq', mode: opts.mode ?? 'auto',
      tuningStats: algorithm.name === 'AccuracyAwareQuantization' && algorithm.params.tune_hyperparams,
      prefixCache: algorithm.name === 'AccuracyAwareQuantization' && algorithm.params.prefix_cache,
    })));
    await asModelError(modelPath, () => b.openFp32Session());
    // The model must run on the first sample and score classes the labels fit.
    const classes = await b.probe().catch((e) => {
      if (e instanceof QuantizeError) throw QuantizeError.inFile(e, modelPath);
      const why = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim().slice(0, 400);
      throw new QuantizeError(`fails on the first sample of ${files.data} (shaped [${dataset.sampleShape.join(', ')}]): ${why}`, {
        file: modelPath, expected: 'data preprocessed to the shape the model input needs',
      });
    });
    checkLabels(dataset, classes, metrics, files);
    const fingerprints = {
      model: await hashBytes(modelBytes),
      data: await dataset.fingerprint(),
      config: await hashBytes(new TextEncoder().encode(JSON.stringify({ algorithm, dataset: datasetCfg, metrics: cfg.engine.metrics }))),
    };
    return { parsed, algorithm, modelPath, modelBytes, original, model, normalize: report, dataset, engine, backend: b, metrics, fingerprints };
  } catch (e) {
    await backend?.dispose().catch(() => undefined);
    await engine.dispose().catch(() => undefined);
    throw e;
  }
}
