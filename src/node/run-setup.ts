// The CLI's side of preparing a run (src/core/run/ does the rest): read the config and the model
// from disk, resolve paths (relative to the config; --model / --data relative to the working
// directory), and create the Node engine.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parsePotConfig } from '../core/config/parse';
import type { ParsedConfig } from '../core/config/types';
import type { EvalModeOption } from '../core/evaluation/eval-mode';
import type { OnnxQuantizationBackend } from '../core/evaluation/onnx-backend';
import { checkModelSize } from '../core/onnx/proto';
import { modelInputShape } from '../core/run/input-checks';
import { prepareInputs, type PreparedInputs } from '../core/run/inputs';
import { OpenedRun } from '../core/run/open-run';
import { QuantizeError, type Engine } from '../core/types';
import { createNodeEngine, type NodeEngineKind } from './engines';
import { FsSource } from './fs-source';

export interface RunSetupOptions {
  config: string;
  model?: string;
  data?: string;
  engine?: NodeEngineKind;
  batch?: number;
  /** How candidate configurations are evaluated (default 'auto': the back end's measured faster mode). */
  mode?: EvalModeOption;
  threads?: number;
  /** Bytes the run's caches may hold (src/core/run/memory.ts). */
  memoryBytes?: number;
}

/** A prepared CLI run: the core's inputs and opened run, with the paths it was read from. */
export interface RunSetup extends PreparedInputs {
  configPath: string;
  modelPath: string;
  run: OpenedRun;
  engine: Engine;
  backend: OnnxQuantizationBackend;
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
  checkModelSize(fileSize(path, 'an .onnx model'), path);
  return new Uint8Array(readFileSync(path));
}

export async function prepareRun(opts: RunSetupOptions): Promise<RunSetup> {
  const configPath = resolve(opts.config);
  const parsed = readConfig(configPath);
  const cfgDir = dirname(configPath);
  const cfg = parsed.config;
  const modelPath = opts.model ? resolve(opts.model) : cfg.model.model ? resolve(cfgDir, cfg.model.model) : '';
  if (!modelPath) throw new QuantizeError('no model given', { file: configPath, field: 'model.model', expected: 'a path to an .onnx file, or --model' });
  const inputs = await prepareInputs({
    parsed,
    configName: configPath,
    modelBytes: readModel(modelPath),
    modelName: modelPath,
    source: new FsSource(opts.data ? process.cwd() : cfgDir),
    dataSource: opts.data,
    dataHint: ', or --data',
  });
  const run = await OpenedRun.open(inputs, {
    engines: { create: () => createNodeEngine(opts.engine ?? 'native', { threads: opts.threads }) },
    settings: { batchSize: opts.batch, mode: opts.mode, memoryBytes: opts.memoryBytes },
  });
  return {
    ...inputs,
    configPath,
    modelPath,
    run,
    get engine() {
      return run.engine;
    },
    get backend() {
      return run.backend;
    },
  };
}
