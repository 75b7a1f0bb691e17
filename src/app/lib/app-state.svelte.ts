// The page's state and the actions the screens call. Heavy work goes to workers; data sent to a
// worker is taken from $state.raw values or $state.snapshot (proxies cannot be cloned).

import { defaultAaqConfig } from '../../../src/core/config/serialize';
import { parsePotConfig } from '../../../src/core/config/parse';
import type { PotConfig } from '../../../src/core/config/types';
import { deviceMemoryBudget } from '../../core/run/memory';
import type { DataPreview, ModelSummary, RunMeta, RunSettings } from '../../../workers/protocol';
import { classifyData, type PickedData } from './files';
import { errorText } from './format';
import { toolsWorker } from './worker-client';

export type Screen = 'load' | 'configure' | 'run' | 'results';

export interface LoadedModel {
  name: string;
  bytes: Uint8Array;
  summary: ModelSummary;
}

/** WASM threads: up to 4, leaving one core to the page so it stays responsive during a run. */
/** The caches' budget for this device (src/core/run/memory.ts): an eighth of navigator.deviceMemory, at most the CLI's default. */
function defaultMemoryMiB(): number {
  const gib = typeof navigator !== 'undefined' ? (navigator as Navigator & { deviceMemory?: number }).deviceMemory : undefined;
  return Math.round(deviceMemoryBudget(gib) / 2 ** 20);
}

function defaultThreads(): number {
  const hc = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 2 : 2;
  return Math.max(1, Math.min(4, hc - 1));
}

class AppState {
  screen = $state<Screen>('load');
  model = $state.raw<LoadedModel | null>(null);
  modelError = $state<string | null>(null);
  data = $state.raw<PickedData | null>(null);
  dataError = $state<string | null>(null);
  preview = $state.raw<DataPreview | null>(null);
  previewError = $state<string | null>(null);
  /** Why `aaq quantize` would refuse these files before starting (its message), or null. */
  refusal = $state<string | null>(null);
  /** The run check of the files loaded last (refreshPreview) has not answered yet. */
  checking = $state(false);
  private checks = 0;
  config = $state<PotConfig | null>(null);
  settings = $state<RunSettings>({ backend: 'wasm', batchSize: 16, threads: defaultThreads(), mode: 'auto', memoryMiB: defaultMemoryMiB() });
  runs = $state.raw<RunMeta[]>([]);
  busy = $state<string | null>(null);
  demo = $state(false);

  get ready(): boolean {
    return !!this.model && !!this.data && !!this.config && !this.previewError && !this.preview?.labelsOutOfRange && !this.refusal && !this.checking;
  }

  /** The config as plain JSON text (what the worker parses). */
  configText(): string {
    return JSON.stringify($state.snapshot(this.config), null, 2) + '\n';
  }

  async loadModel(name: string, bytes: Uint8Array): Promise<void> {
    this.busy = 'Reading the model…';
    this.modelError = null;
    this.refusal = null;
    // Not ready until the run check of the new files has answered (refreshPreview).
    this.checking = true;
    try {
      const summary = await toolsWorker().inspectModel(name, bytes);
      this.model = { name, bytes, summary };
      this.ensureConfig();
    } catch (e) {
      this.model = null;
      this.modelError = errorText(e);
    } finally {
      this.busy = null;
    }
  }

  async loadData(picked: Promise<PickedData> | PickedData): Promise<void> {
    this.dataError = null;
    // The preview (and its messages) belonged to the data picked before.
    this.preview = null;
    this.previewError = null;
    this.refusal = null;
    this.checking = true;
    try {
      this.data = await picked;
      this.ensureConfig();
    } catch (e) {
      this.data = null;
      this.dataError = errorText(e);
    }
  }

  /** A config once model and data are there; the data paths follow the data picked. */
  private ensureConfig(): void {
    if (!this.model || !this.data) return;
    if (!this.config) {
      const c = defaultAaqConfig(this.model.name, this.data.dataSource);
      c.model.model_name = this.model.name.replace(/\.onnx$/i, '');
      c.engine.dataset.color = this.model.summary.color;
      this.config = c;
    }
    this.config.model.model = this.model.name;
    this.config.engine.dataset.data_source = this.data.dataSource;
    if (this.data.labels) this.config.engine.dataset.labels = this.data.labels;
    else delete this.config.engine.dataset.labels;
  }

  async refreshPreview(): Promise<void> {
    if (!this.model || !this.data || !this.config) return;
    const check = ++this.checks;
    const [model, data, configText] = [this.model, this.data, this.configText()];
    this.previewError = null;
    try {
      this.preview = await toolsWorker().previewData(data.input, configText, model.summary);
    } catch (e) {
      this.preview = null;
      this.previewError = errorText(e);
      if (check === this.checks) this.checking = false;
      return;
    }
    // Then everything `aaq quantize` checks before it starts, on the same files, with its messages.
    let refusal: string | null;
    this.checking = true;
    try {
      refusal = await toolsWorker().checkRun(configText, model.name, model.bytes, data.input);
    } catch (e) {
      refusal = `These files could not be checked: ${errorText(e)}`;
    }
    if (check !== this.checks) return;
    this.refusal = refusal;
    this.checking = false;
  }

  async loadDemo(): Promise<void> {
    this.busy = 'Loading the demo…';
    try {
      const base = `${import.meta.env.BASE_URL}demo/`;
      const get = async (f: string) => {
        const r = await fetch(base + f);
        if (!r.ok) throw new Error(`demo file ${f}: HTTP ${r.status}`);
        return r;
      };
      const cfgText = await (await get('demo.config.json')).text();
      const cfg = parsePotConfig(cfgText, 'demo.config.json').config;
      const ds = cfg.engine.dataset;
      const [model, x, y] = await Promise.all([get(cfg.model.model), get(ds.data_source), get(ds.labels!)]);
      const modelBytes = new Uint8Array(await model.arrayBuffer());
      this.config = null;
      this.data = null;
      await this.loadModel(cfg.model.model, modelBytes);
      const files = [
        { path: ds.data_source, file: await x.blob() },
        { path: ds.labels!, file: await y.blob() },
      ];
      await this.loadData(classifyData(files, 'Fashion-MNIST, 300 images'));
      this.config = cfg;
      this.demo = true;
    } catch (e) {
      this.modelError = `The demo could not be loaded: ${errorText(e)}`;
    } finally {
      this.busy = null;
    }
  }

  importConfig(text: string, fileName: string): string[] {
    const parsed = parsePotConfig(text, fileName);
    this.config = parsed.config;
    this.ensureConfig();
    return parsed.warnings;
  }
}

export const app = new AppState();
