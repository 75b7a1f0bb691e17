// Checks of a model's input and output and of the labels against the model, made before any work
// runs so that a bad pairing fails at once with a message naming the file. DOM-free: the CLI uses
// them (src/node/run-setup.ts) and the studio can.
import type { OpenedDataset } from '../data/dataset';
import { metricDef } from '../metrics/index';
import { GraphIndex } from '../onnx/graph';
import { DataType, type ModelProto } from '../onnx/proto';
import { QuantizeError, type MetricName } from '../types';

/** Input layout and per-sample shape (without batch) from the model input; -1 for symbolic dims.
 *  The input must be float32 (the data pipeline produces float32). */
export function modelInputShape(model: ModelProto, layoutHint?: 'NCHW' | 'NHWC', file?: string): { sampleShape: number[]; layout: 'NCHW' | 'NHWC' } {
  const idx = new GraphIndex(model);
  const name = idx.inputs[0];
  const field = `input '${name}'`;
  const shape = idx.shapeOf(name);
  if (!shape || shape.length < 2) {
    throw new QuantizeError(shape ? `has shape [${shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]` : 'has no declared shape', {
      file,
      field,
      expected: 'a model input shaped [N, C, H, W] or [N, H, W, C] (or [N, features])',
    });
  }
  const elem = idx.valueInfo.get(name)?.type?.tensorType?.elemType;
  if (elem != null && elem !== DataType.FLOAT) {
    throw new QuantizeError(`has element type ${DataType[elem] ?? elem}; the data is fed as float32`, { file, field, expected: 'a float32 model input' });
  }
  const sample = shape.slice(1);
  let layout: 'NCHW' | 'NHWC' = layoutHint ?? 'NCHW';
  if (!layoutHint && sample.length === 3 && (sample[2] === 1 || sample[2] === 3) && !(sample[0] === 1 || sample[0] === 3)) layout = 'NHWC';
  return { sampleShape: sample, layout };
}

/**
 * Labels the metrics can use with a model of `classes` classes: a class-folder image set needs two
 * or more folders and no more than `classes`; label values must be in 0..classes-1. `files` name
 * the data source and the labels file in messages.
 */
export function checkLabels(ds: OpenedDataset, classes: number | undefined, metrics: MetricName[], files: { data: string; labels?: string }): void {
  if (!ds.hasLabels || !metrics.some((m) => metricDef(m).needsLabels)) return;
  const names = ds.kind === 'images' && !files.labels ? ds.classNames : undefined;
  if (names) {
    if (names.length === 1) {
      throw new QuantizeError(`only one class folder ('${names[0]}'): every sample would get label 0`, {
        file: files.data,
        field: 'dataset.data_source',
        expected: 'one subfolder per class (two or more, in class-index order), a labels file, or the metric agreement@top1',
      });
    }
    if (classes !== undefined && names.length > classes) {
      throw new QuantizeError(`${names.length} class folders, but the model scores ${classes} classes`, {
        file: files.data,
        field: 'dataset.data_source',
        expected: `at most ${classes} class folders (labels 0..${classes - 1} in sorted folder order)`,
      });
    }
    return;
  }
  if (classes === undefined) return;
  for (let i = 0; i < ds.size; i++) {
    const l = ds.label(i);
    if (l >= classes) {
      throw new QuantizeError(`label ${l} of sample ${i} is out of range for the model's ${classes} classes`, {
        file: files.labels ?? files.data,
        field: 'dataset.labels',
        expected: `class indices 0..${classes - 1}`,
      });
    }
  }
}
