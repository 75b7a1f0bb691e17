// Everything a Node run needs, from a config file and CLI overrides: the parsed config, the
// normalised model, the dataset, the engine and the quantization backend.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parsePotConfig } from '../core/config/parse';
import type { AccuracyAwareParams, DefaultQuantizationParams, ParsedConfig } from '../core/config/types';
import { openDataset, type OpenedDataset } from '../core/data/dataset';
import { hashBytes } from '../core/data/hash';
import { decodeModel, type ModelProto } from '../core/onnx/proto';
import { normalizeModel, type NormalizeReport } from '../core/onnx/normalize';
import { GraphIndex } from '../core/onnx/graph';
import { OnnxQuantizationBackend, type EvalMode } from '../core/algorithms/onnx-backend';
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
  mode?: EvalMode;
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

function readConfig(path: string): ParsedConfig {
  if (!existsSync(path)) throw new QuantizeError('no such file', { file: path, expected: 'a POT config file (JSON with comments)' });
  return parsePotConfig(readFileSync(path, 'utf8'), path);
}

/** Input layout and per-sample shape (without batch) from the model input; -1 for symbolic dims. */
export function modelInputShape(model: ModelProto, layoutHint?: 'NCHW' | 'NHWC'): { sampleShape: number[]; layout: 'NCHW' | 'NHWC' } {
  const idx = new GraphIndex(model);
  const shape = idx.shapeOf(idx.inputs[0]);
  if (!shape || shape.length < 2) throw new QuantizeError(`input '${idx.inputs[0]}' has no usable shape`, { expected: 'a model input shaped [N, C, H, W] or [N, H, W, C]' });
  const sample = shape.slice(1);
  let layout: 'NCHW' | 'NHWC' = layoutHint ?? 'NCHW';
  if (!layoutHint && sample.length === 3 && (sample[2] === 1 || sample[2] === 3) && !(sample[0] === 1 || sample[0] === 3)) layout = 'NHWC';
  return { sampleShape: sample, layout };
}

export async function prepareRun(opts: RunSetupOptions): Promise<RunSetup> {
  const configPath = resolve(opts.config);
  const parsed = readConfig(configPath);
  const cfgDir = dirname(configPath);
  const cfg = parsed.config;
  const modelPath = opts.model ? resolve(opts.model) : cfg.model.model ? resolve(cfgDir, cfg.model.model) : '';
  if (!modelPath) throw new QuantizeError('no model given', { file: configPath, field: 'model.model', expected: 'a path to an .onnx file, or --model' });
  if (!existsSync(modelPath)) throw new QuantizeError('no such file', { file: modelPath, expected: 'an .onnx model' });
  const modelBytes = new Uint8Array(readFileSync(modelPath));
  const original = decodeModel(modelBytes, modelPath);
  const { model, report } = normalizeModel(original, modelPath);
  const dataRoot = opts.data ? process.cwd() : cfgDir;
  const datasetCfg = { ...cfg.engine.dataset, data_source: opts.data ?? cfg.engine.dataset.data_source };
  if (!datasetCfg.data_source) throw new QuantizeError('no data given', { file: configPath, field: 'engine.dataset.data_source', expected: 'an image folder, .npy or IDX file, or --data' });
  const { sampleShape, layout } = modelInputShape(model, cfg.engine.dataset.layout);
  const dataset = await openDataset(new FsSource(dataRoot), datasetCfg, { sampleShape, layout });
  const algorithm = cfg.compression.algorithms[0];
  const metrics = [...new Set((algorithm.name === 'AccuracyAwareQuantization' && algorithm.params.metrics ? algorithm.params.metrics : cfg.engine.metrics).map((m) => m.type ?? m.name))] as MetricName[];
  if (!dataset.hasLabels && metrics.some((m) => m !== 'agreement@top1')) {
    throw new QuantizeError(`the data has no labels, but the metric ${metrics.find((m) => m !== 'agreement@top1')} needs them`, { file: configPath, field: 'engine.metrics', expected: 'labels (class subfolders or a labels file), or the metric agreement@top1' });
  }
  const engine = await createNodeEngine(opts.engine ?? 'native', { threads: opts.threads });
  const params = algorithm.params as DefaultQuantizationParams | AccuracyAwareParams;
  const backend = new OnnxQuantizationBackend({
    engine, model, dataset, metrics, placementParams: params, batchSize: opts.batch ?? 16,
    flavor: 'qdq', mode: opts.mode ?? 'switchable',
    tuningStats: algorithm.name === 'AccuracyAwareQuantization' && algorithm.params.tune_hyperparams,
  });
  const fingerprints = {
    model: await hashBytes(modelBytes),
    data: await dataset.fingerprint(),
    config: await hashBytes(new TextEncoder().encode(JSON.stringify({ algorithm, dataset: datasetCfg, metrics: cfg.engine.metrics }))),
  };
  return { parsed, algorithm, modelPath, modelBytes, original, model, normalize: report, dataset, engine, backend, metrics, fingerprints };
}
