// Everything a browser run needs from the picked files and the config text — the browser twin of
// src/node/run-setup.ts (same steps, same checks, same fingerprints, so a run here and
// `aaq quantize` agree). The engine-dependent checks (the model loads and runs on sample 0, the
// labels fit its classes) follow in run-session.ts once the engine exists.

import { parsePotConfig } from '../src/core/config/parse';
import type { AccuracyAwareParams, DefaultQuantizationParams, ParsedConfig } from '../src/core/config/types';
import { openDataset, type OpenedDataset } from '../src/core/data/dataset';
import { hashBytes } from '../src/core/data/hash';
import { MemorySource } from '../src/core/data/memory-source';
import { normalizeModel, type NormalizeReport } from '../src/core/onnx/normalize';
import { modelInputShape } from '../src/core/run/input-checks';
import { decodeModel, type ModelProto } from '../src/core/onnx/proto';
import { QuantizeError, type MetricName } from '../src/core/types';
import type { DataInput } from './protocol';

export async function memorySource(data: DataInput): Promise<MemorySource> {
  const src = new MemorySource({}, data.name);
  const bytes = await Promise.all(data.files.map(async (f) => new Uint8Array(await f.file.arrayBuffer())));
  data.files.forEach((f, i) => src.add(f.path, bytes[i]));
  return src;
}

export interface BrowserSetup {
  parsed: ParsedConfig;
  algorithm: ParsedConfig['config']['compression']['algorithms'][number];
  params: DefaultQuantizationParams | AccuracyAwareParams;
  model: ModelProto;
  normalize: NormalizeReport;
  dataset: OpenedDataset;
  metrics: MetricName[];
  fingerprints: { model: string; data: string; config: string };
}

export async function prepareBrowserRun(configText: string, modelName: string, modelBytes: Uint8Array, data: DataInput): Promise<BrowserSetup> {
  const parsed = parsePotConfig(configText, 'config.json');
  const cfg = parsed.config;
  const original = decodeModel(modelBytes, modelName);
  const { model, report } = normalizeModel(original, modelName);
  const datasetCfg = cfg.engine.dataset;
  if (!datasetCfg.data_source) throw new QuantizeError('no data given', { field: 'engine.dataset.data_source', expected: 'an image folder, .npy or IDX file' });
  const { sampleShape, layout } = modelInputShape(model, datasetCfg.layout, modelName);
  const dataset = await openDataset(await memorySource(data), datasetCfg, { sampleShape, layout });
  const algorithm = cfg.compression.algorithms[0];
  const metrics = [
    ...new Set((algorithm.name === 'AccuracyAwareQuantization' && algorithm.params.metrics ? algorithm.params.metrics : cfg.engine.metrics).map((m) => m.type ?? m.name)),
  ] as MetricName[];
  if (!dataset.hasLabels && metrics.some((m) => m !== 'agreement@top1')) {
    throw new QuantizeError(`the data has no labels, but the metric ${metrics.find((m) => m !== 'agreement@top1')} needs them`, {
      field: 'engine.metrics',
      expected: 'labels (class subfolders or a labels file), or the metric agreement@top1',
    });
  }
  const fingerprints = {
    model: await hashBytes(modelBytes),
    data: await dataset.fingerprint(),
    config: await hashBytes(new TextEncoder().encode(JSON.stringify({ algorithm, dataset: datasetCfg, metrics: cfg.engine.metrics }))),
  };
  return { parsed, algorithm, params: algorithm.params, model, normalize: report, dataset, metrics, fingerprints };
}
