// The JSON report of a browser run: the core's RunReport, built by the same `buildRunReport` as
// `aaq quantize` (src/cli/main.ts), so the two can be compared directly. Only the worker's inputs
// are mapped here: the picked model's file name serves as its path (and as its name when the
// config has none).

import { buildRunReport, type RunReport, type RunReportInput } from '../src/core/report';
import type { BrowserSetup } from './setup';

/** The core's input, with the picked model's file name and sizes in place of `model`. */
export interface ReportInput extends Omit<RunReportInput, 'setup' | 'model'> {
  setup: BrowserSetup;
  modelName: string;
  modelBytes: number;
  qdqBytes: number;
}

export function buildReport(r: ReportInput): RunReport {
  const { modelName, modelBytes, qdqBytes, ...rest } = r;
  return buildRunReport({ ...rest, model: { path: modelName, name: modelName, bytes: modelBytes, quantizedBytes: qdqBytes } });
}
